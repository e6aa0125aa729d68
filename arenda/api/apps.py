from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "arenda.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from arenda.api.sqlite import install_unicode_like

        install_unicode_like()
