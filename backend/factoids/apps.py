from django.apps import AppConfig


class FactoidsConfig(AppConfig):
    name = "backend.factoids"
    label = "factoids"
    verbose_name = "Factoids"
