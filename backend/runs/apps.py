from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RunsConfig(AppConfig):
    name = "backend.runs"
    label = "runs"
    verbose_name = "Runs and event logs"

    def ready(self) -> None:
        from backend.guard.reconcile import on_billing_corrected
        from backend.runs.services import run_add_usage

        post_migrate.connect(_checkpoint_tables, sender=self)
        # A model call's billed cost, known later, moves its run's totals with its ledger row.
        on_billing_corrected(run_add_usage)


def _checkpoint_tables(**kwargs: object) -> None:
    """``migrate`` also creates LangGraph's checkpoint tables (on PostgreSQL), so a deploy's
    first runs do not race to create them."""
    from backend.runs.checkpoints import postgres_dsn, setup_done, setup_postgres_sync

    if kwargs.get("using", "default") != "default":
        return
    dsn = postgres_dsn()
    if dsn and not setup_done(dsn):  # flush (tests) sends post_migrate too
        setup_postgres_sync(dsn)
