from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "backend.channels"
    label = "creator_channels"
    verbose_name = "Channels and videos"

    def ready(self) -> None:
        from backend.channels.fetch import DRIVER, KIND
        from backend.runs.drivers import register_driver

        register_driver(KIND, DRIVER)
