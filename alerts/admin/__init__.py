"""The operations console; importing each module registers its models with the admin site."""

from . import actions, campaigns, deliveries, letters

__all__ = ["actions", "campaigns", "deliveries", "letters"]
