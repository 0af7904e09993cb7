from django.urls import path

from backend.llm import apis

urlpatterns = [path("models/", apis.ModelListApi.as_view(), name="model-list")]
