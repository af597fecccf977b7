"""Queue deliveries in the database DATABASE_URL names, through the service the form uses (so
the real enqueue path, to the broker REDIS_URL names):

    DATABASE_URL=... REDIS_URL=... python -m tests.support.seed_queue ACTIONS

For a test whose database is a throwaway cluster its own process is not connected to. Creates
one campaign with three email officials; prints the number of deliveries queued."""

import os
import sys


def main(actions: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from alerts.models import Delivery
    from tests.factories import CampaignFactory, three_email_officials
    from tests.support.forms import submit_actions

    officials = three_email_officials()
    campaign = CampaignFactory(targets=officials, double_opt_in=False, target_congress=False)
    submit_actions(campaign, officials, actions, tag="crash")
    return Delivery.objects.filter(status=Delivery.Status.QUEUED).count()


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
