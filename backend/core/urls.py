from django.urls import path

from backend.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
