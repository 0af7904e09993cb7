from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "backend.channels"
    label = "creator_channels"
    verbose_name = "Channels and videos"
