"""Writes for accounts, one module per concern (see each module's docstring)."""
