from django.contrib import admin

from backend.channels.models import Channel, Video


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "display_name",
        "handle",
        "role",
        "is_primary",
        "external_id",
        "source",
        "video_count",
        "fetched_at",
        "client_id",
    )
    list_filter = ("source", "role", "is_primary")
    search_fields = ("title", "display_name", "handle", "external_id")


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "video_id", "views", "published_at")
    search_fields = ("title", "video_id")
