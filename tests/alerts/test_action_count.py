"""The campaign's count, maintained as actions are written (`ActionCount`): it equals
`Action.objects.counted()` after every path that writes or confirms an action, and reading it
costs the same however many actions there are."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from alerts.models import Action, ActionCount, Campaign
from alerts.notifications import confirmation_code
from alerts.selectors import actions_counted
from alerts.services import action_confirm, action_submit, actions_delete
from tests.factories import ActionFactory, CampaignFactory
from tests.support.forms import action_post, constituent, submit_actions

pytestmark = pytest.mark.django_db


def counted(campaign) -> int:
    return Action.objects.filter(campaign=campaign).counted().count()


def assert_count_agrees(campaign, expected):
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert counted(campaign) == expected
    assert actions_counted(campaign) == expected


def _post(client, campaign, officials, n):
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    data = action_post(officials, email=f"counted{n}@example.org")
    response = client.post(url, data, REMOTE_ADDR=f"10.0.0.{n}")
    assert response.status_code == 302
    return Action.objects.get(form_token=data["token"])


def test_without_opt_in_each_submission_counts(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    assert_count_agrees(campaign, 0)
    for n in range(3):
        _post(client, campaign, email_officials, n)
        assert_count_agrees(campaign, n + 1)


def test_with_opt_in_only_confirmation_counts_and_only_once(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    first = _post(client, campaign, email_officials, 1)
    second = _post(client, campaign, email_officials, 2)
    assert_count_agrees(campaign, 0)

    assert action_confirm(action=first) is not None
    assert_count_agrees(campaign, 1)
    assert action_confirm(action=first) is None  # confirming twice does nothing
    assert_count_agrees(campaign, 1)

    # The emailed link, pressed twice.
    url = reverse("alerts:confirm", args=[second.public_id])
    assert client.post(url, {"code": confirmation_code(second)}).status_code == 200
    assert client.post(url, {"code": confirmation_code(second)}).status_code == 200
    assert_count_agrees(campaign, 2)


def test_a_resubmitted_form_token_is_one_action_counted_once(client, email_officials):
    campaign = CampaignFactory(targets=email_officials)
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    data = action_post(email_officials)
    for _ in range(2):
        assert client.post(url, data).status_code == 302
    assert Action.objects.filter(campaign=campaign).count() == 1
    assert_count_agrees(campaign, 1)


def test_pre_confirmed_test_blasts_count_even_with_opt_in(email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    for n in range(2):
        action_submit(
            campaign=campaign,
            constituent=constituent(n, tag="blast"),
            subject="Please act",
            message="",
            officials=email_officials,
            consent_text="I agree.",
            pre_confirmed=True,
        )
    submit_actions(campaign, email_officials, 3, tag="unconfirmed")
    assert_count_agrees(campaign, 2)


def test_turning_opt_in_on_or_off_keeps_the_count_right(email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    actions = submit_actions(campaign, email_officials, 3)
    action_confirm(action=actions[0])
    assert_count_agrees(campaign, 1)
    Campaign.objects.filter(pk=campaign.pk).update(double_opt_in=False)
    assert_count_agrees(campaign, 3)
    Campaign.objects.filter(pk=campaign.pk).update(double_opt_in=True)
    assert_count_agrees(campaign, 1)


def test_deleting_actions_takes_them_off_the_count(admin_client, email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    actions = submit_actions(campaign, email_officials, 4)
    action_confirm(action=actions[0])
    action_confirm(action=actions[1])
    assert actions_delete(action_ids=[actions[0].pk, actions[2].pk]) == 2
    assert_count_agrees(campaign, 1)

    # The admin's delete goes through the same service.
    url = reverse("admin:alerts_action_delete", args=[actions[1].pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert_count_agrees(campaign, 0)
    assert Campaign.objects.get(pk=campaign.pk).actions.count() == 1


def test_the_count_is_spread_over_at_most_sixteen_rows(email_officials):
    campaign = CampaignFactory(targets=email_officials)
    submit_actions(campaign, email_officials, 20)
    assert 1 < ActionCount.objects.filter(campaign=campaign).count() <= ActionCount.SLOTS
    assert_count_agrees(campaign, 20)


def test_count_json_reads_the_maintained_count_in_two_queries(
    client, email_officials, django_assert_num_queries
):
    campaign = CampaignFactory(targets=email_officials, goal=50)
    submit_actions(campaign, email_officials, 5)
    url = reverse("alerts:campaign_count", args=[campaign.slug])
    with django_assert_num_queries(2):  # the live campaign, the sum of its count's rows
        response = client.get(url)
    assert response.json() == {"count": 5, "goal": 50}


def test_the_thank_you_page_shows_the_maintained_count(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, goal=10)
    _post(client, campaign, email_officials, 1)
    action = _post(client, campaign, email_officials, 2)
    page = client.get(reverse("alerts:thanks", args=[campaign.slug, action.public_id]))
    assert "2 of 10 people have taken action." in page.content.decode()


def test_the_migration_counts_the_actions_already_there(email_officials):
    """Actions written before the count existed (as factories write them, past the services)."""
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    ActionFactory.create_batch(3, campaign=campaign)
    ActionFactory.create_batch(2, campaign=campaign, confirmed_at="2026-01-01T00:00Z")
    ActionCount.objects.all().delete()
    migration = importlib.import_module("alerts.migrations.0007_action_count")
    migration.count_existing_actions(apps, None)
    assert_count_agrees(campaign, 2)
    Campaign.objects.filter(pk=campaign.pk).update(double_opt_in=False)
    assert_count_agrees(campaign, 5)
