from django.apps import AppConfig


class FactoidsConfig(AppConfig):
    name = "backend.factoids"
    label = "factoids"
    verbose_name = "Factoids"

    def ready(self) -> None:
        from backend.factoids.driver import DRIVER
        from backend.factoids.models import RUN_KIND
        from backend.runs.drivers import register_driver

        register_driver(RUN_KIND, DRIVER)
