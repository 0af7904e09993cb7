"""The accounts endpoints, one module per area."""
