from django.urls import path

from backend.channels import apis

urlpatterns = [
    path("videos/search/", apis.VideoSearchApi.as_view(), name="video-search"),
    path("channels/", apis.ChannelListApi.as_view(), name="channel-list"),
    path("channels/import/", apis.ChannelImportApi.as_view(), name="channel-import"),
    path("channels/<str:channel_id>/", apis.ChannelDetailApi.as_view(), name="channel-detail"),
    path(
        "channels/<str:channel_id>/videos/", apis.ChannelVideosApi.as_view(), name="channel-videos"
    ),
    path(
        "channels/<str:channel_id>/outliers/",
        apis.ChannelOutliersApi.as_view(),
        name="channel-outliers",
    ),
    path(
        "channels/<str:channel_id>/upload-streak/",
        apis.ChannelUploadStreakApi.as_view(),
        name="channel-upload-streak",
    ),
    path(
        "channels/<str:channel_id>/thumbnail-comparison/",
        apis.ChannelThumbnailComparisonApi.as_view(),
        name="channel-thumbnail-comparison",
    ),
    path(
        "channels/<str:channel_id>/competitor-gap/",
        apis.ChannelCompetitorGapApi.as_view(),
        name="channel-competitor-gap",
    ),
]
