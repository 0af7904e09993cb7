"""Database errors as Django raises them, for tests of how they are answered."""

from __future__ import annotations

from django.db import OperationalError


def as_django_raises(driver_error: Exception) -> OperationalError:
    """``driver_error`` re-raised as Django's own class, from the driver's (as Django's
    cursor wrapper does)."""
    try:
        try:
            raise driver_error
        except type(driver_error) as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as wrapped:
        return wrapped
