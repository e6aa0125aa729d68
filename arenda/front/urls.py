from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from arenda.front import calendar_views, lookup_views, notification_views, search_views, security_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/calendar/", calendar_views.working_calendar, name="working_calendar"),
    path(
        "settings/calendar/<int:pk>/delete/", calendar_views.calendar_day_delete, name="calendar_day_delete"
    ),
    path("search/", search_views.search_page, name="search"),
    path("lookup/<slug:kind>/", lookup_views.lookup_options, name="lookup"),
    path("csp-report/", security_views.csp_report, name="csp_report"),
    path("notifications/bell/", notification_views.notification_bell, name="notification_bell"),
    path("notifications/read/", notification_views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:pk>/", notification_views.notification_open, name="notification_open"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="front/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="front/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="front/password_change_done.html"),
        name="password_change_done",
    ),
]
