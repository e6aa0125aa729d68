from django.urls import path

from arenda.ops import views

app_name = "ops"
urlpatterns = [path("health/", views.health_detail, name="health")]
