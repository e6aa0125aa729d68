from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "arenda.api"
    label = "api"
    verbose_name = "API"
