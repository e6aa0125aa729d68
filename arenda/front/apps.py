from django.apps import AppConfig


class FrontConfig(AppConfig):
    """The HTML shell: layout, navigation, dashboard, sign-in pages, notifications, and the
    form and list toolkit the pages of every area are built with."""

    name = "arenda.front"
    label = "front"
