from django.apps import AppConfig


class ToolsConfig(AppConfig):
    name = "backend.tools"
    label = "creator_tools"
    verbose_name = "Creator tools and history"
