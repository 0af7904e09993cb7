from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "backend.chat"
    label = "chat"
    verbose_name = "Chat sessions"

    def ready(self) -> None:
        from backend.chat.driver import DRIVER
        from backend.chat.models import RUN_KIND
        from backend.runs.drivers import register_driver

        register_driver(RUN_KIND, DRIVER)
