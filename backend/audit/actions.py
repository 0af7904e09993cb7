"""The actions an audit event can record (``AuditEvent.action``)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    ACCOUNT_SIGNED_UP = "account.signed_up"
    ACCOUNT_LOGIN = "account.login"
    ACCOUNT_LOGIN_FAILED = "account.login_failed"
    ACCOUNT_LOGOUT = "account.logout"
    PASSWORD_RESET_REQUESTED = "account.password_reset_requested"
    PASSWORD_RESET_COMPLETED = "account.password_reset_completed"
    EMAIL_VERIFIED = "account.email_verified"
    ACCOUNT_EXPORTED = "account.exported"
    ACCOUNT_DELETED = "account.deleted"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    PLAN_CHANGED = "account.plan_changed"
    CREDITS_GRANTED = "credits.granted"
    CREDITS_TAKEN_BACK = "credits.taken_back"
    WEBHOOK_SET = "webhook.set"
    WEBHOOK_CLEARED = "webhook.cleared"
    ADMIN_ADDED = "admin.added"
    ADMIN_CHANGED = "admin.changed"
    ADMIN_DELETED = "admin.deleted"
