"""Which account a staff action's object belongs to, so the account's export lists it.

Apps that own such objects register a resolver in their ``AppConfig.ready()`` (the audit
app imports none of them): ``audit_target_register(model_label="accounts.account",
account_of=lambda pk: pk)``. Objects of other models belong to no account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# An object's id to its account's id (or None); the result is read as a string.
AccountOf = Callable[[str], Any]
_resolvers: dict[str, AccountOf] = {}


def audit_target_register(*, model_label: str, account_of: AccountOf) -> None:
    """``model_label`` as ``app_label.model_name`` (lower case, Django's ``label_lower``)."""
    _resolvers[model_label.lower()] = account_of


def account_of_target(*, model_label: str, object_id: str) -> str | None:
    resolve = _resolvers.get(model_label.lower())
    if resolve is None or not object_id:
        return None
    try:
        found = resolve(object_id)
    except Exception:  # an id of the wrong shape, say: the action belongs to no account
        return None
    return str(found) if found else None
