from django.urls import path, re_path

from backend.core import frontend, views

urlpatterns = [
    path("api/config/", views.public_config, name="public-config"),
    # Page routes of the chat UI. Everything under api/, admin/ and the asset prefixes
    # stays a JSON 404 when nothing matched it.
    re_path(
        r"^(?!api/|admin/|static/|_next/)(?P<path>[A-Za-z0-9_\-/]*)$",
        frontend.page,
        name="frontend-page",
    ),
]
