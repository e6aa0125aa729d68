from django.urls import path

from arenda.ops import channels_views, views

app_name = "ops"
urlpatterns = [
    path("health/", views.health_detail, name="health"),
    path("channels/", channels_views.channels_page, name="channels"),
    path("channels/<slug:kind>/", channels_views.channel_save, name="channel_save"),
    path("channels/<slug:kind>/test/", channels_views.channel_test, name="channel_test"),
    path("channels/<slug:kind>/subscribe/", channels_views.channel_subscribe, name="channel_subscribe"),
]
