from django.apps import AppConfig


class GuardConfig(AppConfig):
    name = "backend.guard"
    label = "guard"
    verbose_name = "Cost guards"
