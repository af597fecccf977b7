from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    """Staff sign-in: the second factor, lockouts, session limits and their log."""

    name = "staff"
    default = True

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the sign-in log


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our admin site as `admin.site`, so every registration and
    every admin URL goes through the site that asks for the second factor."""

    default = False
    default_site = "staff.admin_site.StaffAdminSite"
