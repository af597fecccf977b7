from django.apps import AppConfig


class LegislatorsConfig(AppConfig):
    name = "legislators"
    verbose_name = "Legislators and officials"
