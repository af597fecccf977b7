"""Retention, export and erasure (alerts/privacy.py): after the purge or an erasure nothing
about the person is left in any table, screenshot folder or Redis key, while the counts and
delivery outcomes reports read stay as they were. The clock is faked by passing `now=`."""

import datetime as dt
import io
import json
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alerts import notifications, privacy, tasks
from alerts.models import Action, ActionCount, Attempt, Call, Delivery, Erasure
from alerts.notifications import CONFIRM_MAX_AGE, ConfirmationLinkError, action_to_confirm
from alerts.selectors import actions_counted, delivery_stats
from alerts.services import action_confirm
from alerts.web import abuse
from tests.factories import ActionFactory, CampaignFactory
from tests.support.forms import action_post
from tests.support.processes import wait_until
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.django_db

# Django field types whose columns hold text a person could be found in.
TEXT_FIELDS = {"CharField", "TextField", "JSONField", "EmailField", "SlugField", "URLField"}


def traces(*needles: str) -> list[str]:
    """Every table.column of the test database, whatever app made it, holding any of
    `needles` (any case): a scan of the schema as PostgreSQL reports it, not a list of the
    fields we thought of."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind not in TEXT_FIELDS:
                    continue
                name = connection.ops.quote_name(column.name)
                sql = f"SELECT 1 FROM {connection.ops.quote_name(table)} WHERE "  # noqa: S608
                sql += " OR ".join([f"CAST({name} AS TEXT) ILIKE %s"] * len(needles))
                cursor.execute(sql + " LIMIT 1", [f"%{needle}%" for needle in needles])
                if cursor.fetchone():
                    found.append(f"{table}.{column.name}")
    return found


class Person:
    """A constituent with words and an address no fixture shares, submitting through the
    real form from an address of their own."""

    def __init__(self, tag: str, *, ip: str):
        unique = uuid.uuid4().hex[:10]
        self.email = f"{tag}.{unique}@Example.org"
        self.first_name = f"Zephyrine{unique}"
        self.last_name = f"Quillfeather{unique}"
        self.street = f"17 Marrowbone {unique} Lane"
        self.phone = f"555-{unique[:7]}"
        self.message = f"My own words {unique}"
        self.ip = ip

    @property
    def needles(self) -> list[str]:
        return [self.email, self.first_name, self.last_name, self.street, self.phone]

    def submit(self, client, campaign, officials, **changes) -> Action:
        fields = {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "street": self.street,
            "message": self.message,
        }
        data = action_post(officials, **{**fields, **changes})
        url = reverse("alerts:campaign_detail", args=[campaign.slug])
        response = client.post(url, data, REMOTE_ADDR=self.ip)
        assert response.status_code == 302, response.content.decode()[:2000]
        action = Action.objects.get(form_token=data["token"])
        # Asked only by some offices' web forms; set here so the scan has it to look for.
        Action.objects.filter(pk=action.pk).update(phone=self.phone)
        return action

    def cache_tokens(self) -> set[str]:
        """What the rate limits key this person's Redis counters by (abuse's own hashes)."""
        return {abuse.ip_hash(self.ip), notifications.mailbox_digest(self.email)}


def finish_deliveries(action: Action, evidence_dir) -> list[Delivery]:
    """The engine's outcomes, as it records them: one sent, one failed, one left to the
    constituent, each with an attempt whose evidence names the person, and a screenshot."""
    deliveries = list(action.deliveries.order_by("official__title"))
    now = timezone.now()
    outcomes = [
        {"status": Delivery.Status.SENT, "sent_at": now},
        {"status": Delivery.Status.FAILED, "failed_at": now, "last_error": f"550 {action.email}"},
        {"status": Delivery.Status.MANUAL, "manual_reason": "The office's form has a CAPTCHA."},
    ]
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        Delivery.objects.filter(pk=delivery.pk).update(attempts=1, **outcome)
        Attempt.objects.create(
            delivery=delivery,
            number=1,
            channel=delivery.channel,
            started_at=now,
            finished_at=now,
            outcome="sent" if outcome["status"] == "sent" else "failed",
            error=f"refused {action.first_name}",
            final_url=f"https://senate.example/thanks?street={action.street}",
            screenshot=f"{delivery.pk}/1.png",
        )
        folder = evidence_dir / str(delivery.pk)
        folder.mkdir(parents=True)
        (folder / "1.png").write_bytes(b"\x89PNG " + action.street.encode())
    Call.objects.create(
        campaign=action.campaign, official=deliveries[2].official, action=action, outcome="spoke"
    )
    return deliveries


def reports(campaign) -> tuple:
    """What organizers' reports read: the public count, the delivery stats, the calls."""
    stats = delivery_stats()
    return (actions_counted(campaign), stats.by_channel_and_status, Call.objects.count())


def count_agrees(campaign) -> bool:
    """The maintained count (ActionCount) equals the actions there are, both columns."""
    rows = ActionCount.objects.filter(campaign=campaign)
    actions = Action.objects.filter(campaign=campaign)
    return (
        sum(r.actions for r in rows) == actions.count()
        and sum(r.confirmed for r in rows) == actions.filter(confirmed_at__isnull=False).count()
    )


@pytest.fixture
def evidence_dir(settings, tmp_path):
    settings.WEB_FORM_EVIDENCE_DIR = tmp_path / "evidence"
    return settings.WEB_FORM_EVIDENCE_DIR


@pytest.fixture
def own_redis(settings):
    """The cache on a redis-server of this test's own, so every key in it is this test's
    and a scan of all of them is exact."""
    server = RedisServer().start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    yield server.client()
    server.stop()


def keys_of(client) -> set[bytes]:
    return set(client.scan_iter(count=1000))


def not_pages(keys) -> set[bytes]:
    """Leaves out the campaign page's cached rendering, the same for every visitor."""
    return {key for key in keys if b":alerts:address-page:" not in key}


# --- the purge -----------------------------------------------------------------------------


def test_the_purge_anonymises_old_actions_and_keeps_counts_and_outcomes(
    client, settings, email_officials, evidence_dir, own_redis
):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    old, recent = Person("old", ip="203.0.113.7"), Person("recent", ip="198.51.100.9")

    before_old = keys_of(own_redis)
    action = old.submit(client, campaign, email_officials, source="newsletter")
    old_keys = not_pages(keys_of(own_redis) - before_old)
    assert old_keys, "the submission left rate-limit counters to find"
    action_confirm(action=action)
    deliveries = finish_deliveries(action, evidence_dir)
    clock = timezone.now() + dt.timedelta(days=31)

    later = recent.submit(client, campaign, email_officials)
    action_confirm(action=later)
    Action.objects.filter(pk=later.pk).update(created_at=clock - dt.timedelta(days=29))
    recent_row = Action.objects.filter(pk=later.pk).values().get()
    recent_keys = not_pages(keys_of(own_redis) - before_old - old_keys)
    assert recent_keys
    counted_before = reports(campaign)
    outcome_fields = ("pk", "official_id", "channel", "status", "attempts", "sent_at", "failed_at")
    outcomes_before = list(
        Delivery.objects.filter(action=action).order_by("pk").values_list(*outcome_fields)
    )
    assert traces(*old.needles)

    done = privacy.personal_data_purge(now=clock)

    assert (done.actions_anonymised, done.actions_removed) == (1, 0)
    assert (done.deliveries_anonymised, done.evidence_removed) == (3, 3)
    assert traces(*old.needles, old.message, abuse.ip_hash(old.ip)) == []
    assert [d for d in deliveries if (evidence_dir / str(d.pk)).exists()] == []
    left = keys_of(own_redis)
    assert left & old_keys == set()
    assert [k for k in left if any(t.encode() in k for t in old.cache_tokens())] == []
    assert [k for k in left if old.email.casefold().encode() in k.lower()] == []

    # What reports read is as it was, and so is the row they count.
    assert reports(campaign) == counted_before
    kept = Action.objects.get(pk=action.pk)
    assert (kept.campaign_id, kept.state, kept.source) == (campaign.pk, "CA", "newsletter")
    assert kept.confirmed_at is not None and kept.created_at == action.created_at
    outcomes = Delivery.objects.filter(action=action).order_by("pk")
    assert list(outcomes.values_list(*outcome_fields)) == outcomes_before
    assert {row[3] for row in outcomes_before} == {"sent", "failed", "manual"}
    assert Attempt.objects.filter(delivery__action=action).count() == 3
    assert count_agrees(campaign)

    # The recent action is untouched, and so are its counters.
    assert Action.objects.filter(pk=later.pk).values().get() == recent_row
    assert recent_keys <= left
    assert traces(recent.email) != []

    # Run again (beat runs it daily), nothing more to do.
    again = privacy.personal_data_purge(now=clock)
    assert (again.actions_anonymised, again.actions_removed) == (0, 0)


def test_the_purge_deletes_unconfirmed_actions_once_their_link_has_expired(
    client, email_officials, evidence_dir
):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    unconfirmed = Person("unconfirmed", ip="203.0.113.8")
    confirmed = Person("confirmed", ip="203.0.113.9")
    waiting = unconfirmed.submit(client, campaign, email_officials)
    done_action = confirmed.submit(client, campaign, email_officials)
    action_confirm(action=done_action)
    (evidence_dir / str(waiting.deliveries.first().pk)).mkdir(parents=True)
    counted = actions_counted(campaign)
    link_expires = waiting.created_at + CONFIRM_MAX_AGE

    early = privacy.personal_data_purge(now=link_expires - dt.timedelta(minutes=1))
    assert early.actions_removed == 0
    assert Action.objects.filter(pk=waiting.pk).exists()

    done = privacy.personal_data_purge(now=link_expires + dt.timedelta(minutes=1))

    assert (done.actions_removed, done.deliveries_removed, done.actions_anonymised) == (1, 3, 0)
    assert not Action.objects.filter(pk=waiting.pk).exists()
    assert traces(*unconfirmed.needles) == []
    assert list(evidence_dir.iterdir()) == []
    # The confirmed one is recent: kept whole. The public count never had the other.
    assert Action.objects.get(pk=done_action.pk).email == confirmed.email
    assert actions_counted(campaign) == counted
    assert count_agrees(campaign)


def test_an_unconfirmed_action_goes_when_its_link_stops_working_not_before(
    client, email_officials, evidence_dir, monkeypatch
):
    """The purge's expiry is the confirmation page's own (`action_to_confirm`), a reminder
    sent or not."""
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    action = Person("reminded", ip="203.0.113.10").submit(client, campaign, email_officials)
    Action.objects.filter(pk=action.pk).update(
        confirmation_sent_at=action.created_at,
        reminder_sent_at=action.created_at + dt.timedelta(days=1),
    )
    expires = action.created_at + CONFIRM_MAX_AGE

    monkeypatch.setattr(timezone, "now", lambda: expires - dt.timedelta(minutes=1))
    assert action_to_confirm(action.public_id).pk == action.pk
    privacy.personal_data_purge()
    assert Action.objects.filter(pk=action.pk).exists()

    monkeypatch.setattr(timezone, "now", lambda: expires + dt.timedelta(minutes=1))
    with pytest.raises(ConfirmationLinkError):
        action_to_confirm(action.public_id)
    privacy.personal_data_purge()
    assert not Action.objects.filter(pk=action.pk).exists()


def test_a_dry_run_counts_and_changes_nothing(client, settings, email_officials, evidence_dir):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    person = Person("dry", ip="203.0.113.11")
    action = person.submit(client, campaign, email_officials)
    rows = list(Action.objects.values())

    out = io.StringIO()
    clock = timezone.now() + dt.timedelta(days=31)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(privacy.timezone, "now", lambda: clock)
        call_command("purge_personal_data", "--dry-run", stdout=out)

    assert "anonymise 1" in out.getvalue()
    assert list(Action.objects.values()) == rows
    assert Action.objects.get(pk=action.pk).email == person.email


@pytest.mark.parametrize("days", [0, -1, privacy.MIN_RETENTION_DAYS - 1])
def test_a_retention_shorter_than_a_confirmation_link_lives_is_refused(
    client, settings, email_officials, evidence_dir, days
):
    settings.PERSONAL_DATA_RETENTION_DAYS = days
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    Person("fresh", ip="203.0.113.13").submit(client, campaign, email_officials)
    rows = list(Action.objects.values()), list(Delivery.objects.values())
    with pytest.raises(ImproperlyConfigured, match="PERSONAL_DATA_RETENTION_DAYS"):
        privacy.personal_data_purge()
    assert (list(Action.objects.values()), list(Delivery.objects.values())) == rows


def test_the_command_purges_by_the_clock_and_says_what_it_did(
    client, settings, email_officials, evidence_dir
):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    person = Person("command", ip="203.0.113.12")
    person.submit(client, campaign, email_officials)
    out = io.StringIO()
    clock = timezone.now() + dt.timedelta(days=31)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(privacy.timezone, "now", lambda: clock)
        call_command("purge_personal_data", stdout=out)
    assert "anonymised 1" in out.getvalue()
    assert traces(*person.needles) == []


# --- export and erasure --------------------------------------------------------------------


@pytest.fixture
def two_people(client, email_officials, evidence_dir):
    """Ana, with a confirmed action whose deliveries ended (screenshots kept) and a second,
    unconfirmed, under her address in other capitals; and Ben, who must be left alone."""
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True)
    ana, ben = Person("ana", ip="203.0.113.20"), Person("ben", ip="203.0.113.21")
    first = ana.submit(client, campaign, email_officials)
    action_confirm(action=first)
    deliveries = finish_deliveries(first, evidence_dir)
    second = ana.submit(client, campaign, email_officials[:1], email=ana.email.upper())
    other = ben.submit(client, campaign, email_officials)
    action_confirm(action=other)
    finish_deliveries(other, evidence_dir)
    return campaign, ana, ben, [first, second], deliveries


def test_the_export_holds_all_of_a_persons_actions_and_nothing_of_anyone_elses(two_people):
    _campaign, ana, ben, actions, deliveries = two_people
    wording = "Keep me informed by the organization."
    Action.objects.filter(pk=actions[0].pk).update(keep_informed=True, keep_informed_text=wording)
    out = io.StringIO()
    call_command("export_constituent", ana.email.lower(), stdout=out)
    exported = json.loads(out.getvalue())

    assert sorted(a["id"] for a in exported["actions"]) == sorted(str(a.public_id) for a in actions)
    first = next(a for a in exported["actions"] if a["id"] == str(actions[0].public_id))
    assert first["contact"]["street"] == ana.street
    assert first["contact"]["phone"] == ana.phone
    assert first["message"] == ana.message
    assert first["confirmation"]["confirmed_at"] is not None
    assert (first["keep_informed"], first["keep_informed_text"]) == (True, wording)
    assert {d["status"] for d in first["deliveries"]} == {"sent", "failed", "manual"}
    assert all(ana.first_name in d["body"] for d in first["deliveries"])
    assert {d["attempt_log"][0]["screenshot"] for d in first["deliveries"]} == {
        f"{d.pk}/1.png" for d in deliveries
    }
    assert [c["outcome"] for c in first["calls"]] == ["spoke"]
    text = out.getvalue()
    for needle in [*ben.needles, ben.message, abuse.ip_hash(ben.ip)]:
        assert needle not in text


def test_erasure_leaves_no_trace_records_that_it_happened_and_spares_others(
    two_people, evidence_dir, settings, own_redis, client, email_officials
):
    campaign, ana, ben, _actions, deliveries = two_people
    # The Redis counters come from submissions made with the cache on this test's own server.
    before = keys_of(own_redis)
    ana.submit(client, campaign, email_officials[:1])
    ana_keys = not_pages(keys_of(own_redis) - before)
    ben.submit(client, campaign, email_officials[:1])
    ben_keys = not_pages(keys_of(own_redis) - before - ana_keys)
    assert ana_keys and ben_keys
    counted_before = actions_counted(campaign)
    ben_rows = list(Action.objects.filter(email=ben.email).order_by("pk").values())
    held = (
        Action.objects.filter(email__iexact=ana.email).count(),
        Delivery.objects.filter(action__email__iexact=ana.email).count(),
    )
    assert held[0] == 3

    out = io.StringIO()
    call_command("erase_constituent", f"  {ana.email.swapcase()} ", stdout=out)

    erasure = Erasure.objects.get()
    assert (erasure.actions_erased, erasure.deliveries_erased) == held
    assert ana.email.casefold() not in out.getvalue().casefold()
    assert traces(*ana.needles, ana.message, abuse.ip_hash(ana.ip)) == []
    assert [d for d in deliveries if (evidence_dir / str(d.pk)).exists()] == []
    left = keys_of(own_redis)
    assert left & ana_keys == set()
    assert [k for k in left if any(t.encode() in k for t in ana.cache_tokens())] == []
    assert ben_keys <= left

    # Ben's rows, screenshots and the public count are as they were.
    assert list(Action.objects.filter(email=ben.email).order_by("pk").values()) == ben_rows
    assert len(list(evidence_dir.iterdir())) == 3
    assert actions_counted(campaign) == counted_before
    assert count_agrees(campaign)

    # Asked again, there is nothing left to erase, and it is recorded again.
    call_command("erase_constituent", ana.email, stdout=io.StringIO())
    assert Erasure.objects.order_by("pk").last().actions_erased == 0


def test_an_empty_address_is_refused_and_changes_nothing(two_people):
    rows = Action.objects.count()
    with pytest.raises(CommandError, match="email address"):
        call_command("erase_constituent", "  ")
    with pytest.raises(CommandError, match="email address"):
        call_command("export_constituent", "")
    assert Action.objects.count() == rows
    assert not Erasure.objects.exists()


# --- the notice ----------------------------------------------------------------------------


def test_the_privacy_notice_states_the_retention_and_where_to_ask(client, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 42
    settings.PRIVACY_CONTACT_EMAIL = "privacy@organizers.example"
    page = client.get(reverse("alerts:privacy")).content.decode()
    assert "We keep your details for 42 days after you take action." in page
    assert '<a href="mailto:privacy@organizers.example">privacy@organizers.example</a>' in page
    # The old, unkept promise: a "retention period" that nothing enforced.
    assert "retention period" not in page

    settings.PRIVACY_CONTACT_EMAIL = ""
    settings.DEFAULT_FROM_EMAIL = "Campaign Team <team@organizers.example>"
    page = client.get(reverse("alerts:privacy")).content.decode()
    assert 'href="mailto:team@organizers.example"' in page


# --- beat and the worker -------------------------------------------------------------------


def test_beat_runs_the_purge_daily(settings):
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-personal-data"]
    assert entry == {"task": "alerts.purge_personal_data", "schedule": 24 * 3600}
    assert entry["task"] in app.tasks
    assert tasks.purge_personal_data.name == entry["task"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_purge_task(celery_worker, email_officials):
    """The task as beat sends it, through the broker to a worker process (its settings: the
    default retention of 180 days)."""
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    old, recent = (
        ActionFactory(
            campaign=campaign,
            email=f"{name}-{uuid.uuid4().hex}@example.org",
            street=f"{uuid.uuid4().hex} Marrowbone Lane",
        )
        for name in ("old", "recent")
    )
    Action.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=181))

    assert tasks.enqueue(tasks.purge_personal_data)

    wait_until(
        lambda: Action.objects.get(pk=old.pk).email == "",
        timeout=30,
        message="the old action anonymised by the worker",
    )
    assert traces(old.email, old.street) == []
    assert Action.objects.get(pk=recent.pk).email == recent.email
    assert "alerts.purge_personal_data" in celery_worker.log()
