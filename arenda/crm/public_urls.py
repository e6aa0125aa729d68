"""The customer's КП link, outside the login: /p/<token>/."""

from django.urls import path

from arenda.crm import public_views

app_name = "proposal"
urlpatterns = [
    path("<str:token>/", public_views.proposal_page, name="page"),
    path("<str:token>/proposal.pdf", public_views.proposal_pdf, name="pdf"),
    path("<str:token>/accept/", public_views.proposal_accept, name="accept"),
    path("<str:token>/decline/", public_views.proposal_decline, name="decline"),
    path("<str:token>/question/", public_views.proposal_question, name="question"),
    path("<str:token>/renewal/", public_views.proposal_renewal, name="renewal"),
]
