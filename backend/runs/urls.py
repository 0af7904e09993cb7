from django.urls import path, re_path

from backend.runs import apis, views

urlpatterns = [
    path("runs/<str:run_id>/", apis.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<str:run_id>/cancel/", apis.RunCancelApi.as_view(), name="run-cancel"),
    re_path(r"^runs/(?P<run_id>[^/]+)/stream/?$", views.run_stream, name="run-stream"),
]
