"""The constituent form: one transaction, tasks only after commit, nothing stored when invalid."""

import pytest
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.web.forms import form_token_is_valid
from tests.factories import OfficialFactory
from tests.support.broker import published_tasks

pytestmark = pytest.mark.django_db


def _url(campaign):
    return reverse("alerts:campaign_detail", args=[campaign.slug])


def test_a_valid_submission_stores_one_action_and_queues_one_task_per_official_after_commit(
    client, campaign, form_data, broker_queue, django_capture_on_commit_callbacks
):
    redis_client, queue = broker_queue
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(_url(campaign), form_data)
        assert redis_client.llen(queue) == 0, "nothing may be enqueued before the commit"

    assert response.status_code == 302
    action = Action.objects.get()
    deliveries = Delivery.objects.filter(action=action)
    assert deliveries.count() == 3
    assert set(deliveries.values_list("status", flat=True)) == {Delivery.Status.QUEUED}
    assert len(callbacks) == 1

    for callback in callbacks:
        callback()
    # One broker message for the action, carrying its delivery ids and nothing personal.
    [(task, [delivery_ids])] = published_tasks(broker_queue)
    assert task == "alerts.deliver"
    assert sorted(delivery_ids) == sorted(str(d.id) for d in deliveries)
    [raw] = redis_client.lrange(queue, 0, -1)
    for personal in ("ani@example.org", "Petrosyan", "Brand Blvd"):
        assert personal.encode() not in raw


def test_the_thank_you_page_follows(client, campaign, form_data):
    response = client.post(_url(campaign), form_data, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your message is on its way" in body
    assert "It will go to 3 officials" in body


def test_the_message_is_addressed_to_each_official(client, campaign, form_data):
    client.post(_url(campaign), form_data)
    delivery = Delivery.objects.get(official__last_name="Vale")
    assert delivery.body.startswith(
        "Dear Senator Vale,\n\nPlease act, Senator. Our asks:\n\n"
        "Please act at the Security Council.\n\nSincerely,"
    )
    assert delivery.constituent_message == "Please act at the Security Council."
    assert "Ani Petrosyan\n100 N Brand Blvd\nGlendale, CA 91203" in delivery.body
    assert delivery.subject == "Protect civilians now"


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"zip_code": "9120"}, "zip_code", "Enter a 5-digit ZIP code"),
        ({"officials": []}, "officials", "Choose at least one official"),
        ({"officials": ["x"]}, "officials", "Choose officials from the list"),
        ({"first_name": "Ani\r\nBcc: x@evil.example"}, "first_name", "single line"),
        ({"subject": "Hi\u2028Bcc: x@evil.example"}, "subject", "single line"),
        ({"message": "x" * 5001}, "message", "at most 5000 characters"),
    ],
)
def test_invalid_input_is_shown_next_to_its_field_and_stores_nothing(
    client, campaign, form_data, django_capture_on_commit_callbacks, change, field, error
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(_url(campaign), {**form_data, **change})
    assert response.status_code == 200
    assert error in response.context["form"].errors[field][0]
    assert error in response.content.decode()
    assert 'class="error-summary"' in response.content.decode()
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert callbacks == []


def test_an_official_the_campaign_does_not_offer_is_rejected(client, campaign, form_data):
    outsider = OfficialFactory()
    data = {**form_data, "officials": [*form_data["officials"], str(outsider.pk)]}
    response = client.post(_url(campaign), data)
    assert "not one of yours" in response.context["form"].errors["officials"][0]
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_closed_campaign_takes_no_submissions(client, campaign, form_data):
    campaign.status = "closed"
    campaign.save()
    assert client.post(_url(campaign), form_data).status_code == 409  # the ended page
    assert Action.objects.count() == 0


def test_a_form_open_too_long_comes_back_with_a_fresh_token_and_sends_next_time(
    client, campaign, form_data
):
    response = client.post(_url(campaign), {**form_data, "token": "long-expired"})

    assert response.templates[0].name == "alerts/steps/message.html"
    assert "This form was open too long" in response.content.decode()
    assert Action.objects.count() == 0
    carried = dict(response.context["page"].carried)
    assert form_token_is_valid(carried["token"])
    assert client.post(_url(campaign), {**form_data, "token": carried["token"]}).status_code == 302
    assert Action.objects.count() == 1
