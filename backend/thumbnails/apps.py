from django.apps import AppConfig


class ThumbnailsConfig(AppConfig):
    name = "backend.thumbnails"
    verbose_name = "Thumbnails"
