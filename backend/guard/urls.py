from django.urls import path

from backend.guard import apis

urlpatterns = [path("admin/usage/", apis.AdminUsageApi.as_view(), name="admin-usage")]
