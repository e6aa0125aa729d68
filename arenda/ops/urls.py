from django.urls import path

from arenda.ops import views

urlpatterns = [path("metrics", views.metrics, name="metrics")]
