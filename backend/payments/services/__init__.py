"""Writes for payments: checkout (sessions, portal), webhook intake, fulfilment, credits."""
