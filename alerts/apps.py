from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Campaigns and actions"

    def ready(self):
        from .operations import checks  # noqa: F401 (registers the system checks)
