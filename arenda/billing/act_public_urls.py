"""The customer's link of a closing document, outside the login: /a/<token>/."""

from django.urls import path

from arenda.billing import act_public_views

app_name = "act_public"
urlpatterns = [
    path("<str:token>/", act_public_views.act_page, name="page"),
    path("<str:token>/act.pdf", act_public_views.act_pdf, name="pdf"),
    path("<str:token>/accept/", act_public_views.act_accept, name="accept"),
]
