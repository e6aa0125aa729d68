from django.urls import path

from arenda.crm import lead_views, views

app_name = "crm"
urlpatterns = [
    path("", views.deal_list, name="deal_list"),
    path("new/", views.deal_create, name="deal_create"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/edit/", views.deal_update, name="deal_update"),
    path("board/", views.deal_board, name="deal_board"),
    path("<int:pk>/move/", views.deal_move, name="deal_move"),
    path("<int:pk>/agree/", views.deal_agree, name="deal_agree"),
    path("<int:pk>/lines/", views.deal_line_add, name="deal_line_add"),
    path("<int:pk>/lines/<int:line_pk>/", views.deal_line_edit, name="deal_line_edit"),
    path("<int:pk>/lines/<int:line_pk>/delete/", views.deal_line_delete, name="deal_line_delete"),
    path("<int:pk>/comments/", views.deal_comment, name="deal_comment"),
    path("<int:pk>/proposal/", views.deal_proposal, name="deal_proposal"),
    path("<int:pk>/proposal.pdf", views.deal_proposal_pdf, name="deal_proposal_pdf"),
    # leads and intake tokens
    path("leads/", lead_views.lead_board, name="lead_board"),
    path("leads/changes/", lead_views.lead_board_changes, name="lead_board_changes"),
    path("leads/list/", lead_views.lead_list, name="lead_list"),
    path("leads/new/", lead_views.lead_create, name="lead_create"),
    path("leads/<int:pk>/", lead_views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/take/", lead_views.lead_take, name="lead_take"),
    path("leads/<int:pk>/assign/", lead_views.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/reply/", lead_views.lead_reply, name="lead_reply"),
    path("leads/<int:pk>/reject/", lead_views.lead_reject, name="lead_reject"),
    path("leads/<int:pk>/qualify/", lead_views.lead_qualify, name="lead_qualify"),
    path("leads/tokens/", lead_views.intake_tokens, name="intake_tokens"),
    path("leads/tokens/<int:pk>/revoke/", lead_views.intake_token_revoke, name="intake_token_revoke"),
]
