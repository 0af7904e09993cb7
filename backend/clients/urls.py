from django.urls import path

from backend.clients import apis

urlpatterns = [
    path("clients/", apis.ClientCreateApi.as_view(), name="client-create"),
    path("clients/me/", apis.ClientMeApi.as_view(), name="client-me"),
    path("clients/me/approvals/", apis.ClientApprovalsApi.as_view(), name="client-approvals"),
]
