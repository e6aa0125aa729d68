from django.apps import AppConfig


class DemoConfig(AppConfig):
    """An app only for its ``seed_demo`` command (``bin/arenda-run`` calls it on start)."""

    name = "arenda.demo"
    label = "demo"
