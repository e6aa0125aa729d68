from django.urls import path

from arenda.crm import views

app_name = "crm"
urlpatterns = [
    path("", views.deal_list, name="deal_list"),
    path("new/", views.deal_create, name="deal_create"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/edit/", views.deal_update, name="deal_update"),
]
