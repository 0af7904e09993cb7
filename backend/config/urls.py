from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.core import views as core_views
from backend.ops import views as ops_views

urlpatterns = [
    path("livez", core_views.livez, name="livez"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("api/", include("backend.clients.urls")),
    path("api/", include("backend.llm.urls")),
    path("api/", include("backend.guard.urls")),
    path("api/", include("backend.runs.urls")),
    path("api/", include("backend.chat.urls")),
    path("api/", include("backend.channels.urls")),
    path("api/", include("backend.tools.urls")),
    path("api/", include("backend.factoids.urls")),
    path("api/", include("backend.thumbnails.urls")),
    path("api/", include("backend.accounts.urls")),
    path("api/", include("backend.payments.urls")),
    path("", include("backend.core.urls")),
]

handler404 = "backend.core.errors.not_found_view"
handler500 = "backend.core.errors.server_error_view"
handler400 = "backend.core.errors.bad_request_view"
handler403 = "backend.core.errors.forbidden_view"
