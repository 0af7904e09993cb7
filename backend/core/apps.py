from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backend.core"
    label = "core"
    verbose_name = "InsightStream core"

    def ready(self) -> None:
        from backend.core.db import quicken_pool_reconnects

        quicken_pool_reconnects()
