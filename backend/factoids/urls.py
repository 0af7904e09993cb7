from django.urls import path, re_path

from backend.factoids import apis, views

urlpatterns = [
    path("factoids/", apis.FactoidListApi.as_view(), name="factoid-list"),
    path("factoids/generate/", apis.FactoidGenerateApi.as_view(), name="factoid-generate"),
    path(
        "factoids/requests/<str:request_id>/",
        apis.FactoidRequestDetailApi.as_view(),
        name="factoid-request",
    ),
    re_path(
        r"^factoids/streams/(?P<request_id>[^/]+)/?$",
        views.factoid_stream,
        name="factoid-stream",
    ),
    path("factoids/<str:factoid_uuid>/vote/", apis.FactoidVoteApi.as_view(), name="factoid-vote"),
    path(
        "factoids/<str:factoid_uuid>/feedback/",
        apis.FactoidFeedbackApi.as_view(),
        name="factoid-feedback",
    ),
    path(
        "admin/factoids/<str:factoid_uuid>/hide/",
        apis.FactoidAdminHideApi.as_view(),
        name="admin-factoid-hide",
    ),
]
