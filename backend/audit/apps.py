from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "backend.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from backend.audit import admin_log

        # Staff actions in Django admin: every LogEntry becomes an AuditEvent.
        admin_log.connect()
