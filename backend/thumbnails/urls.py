from django.urls import path

from backend.thumbnails import apis

urlpatterns = [
    path("thumbnails/", apis.ThumbnailListApi.as_view(), name="thumbnail-list"),
    path("thumbnails/analyse/", apis.ThumbnailAnalyseApi.as_view(), name="thumbnail-analyse"),
    path("thumbnails/<str:thumbnail_id>/", apis.ThumbnailDetailApi.as_view(), name="thumbnail"),
    path("thumbnails/<str:thumbnail_id>/image/", apis.thumbnail_image, name="thumbnail-image"),
]
