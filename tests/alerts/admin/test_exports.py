"""Exporting actions as CSV from the admin: the file equals the database, its filters, who may
take it, the record and log line each export leaves, the keep-me-informed consent it filters on,
and a 100,000-row export streamed in bounded memory with as many queries as a small one."""

import csv
import io
import logging

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.exports import HEADER
from alerts.models import Action, Delivery, ExportLog
from alerts.web.forms import keep_informed_text
from legislators.models import Chamber, house_seat
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory, OfficialFactory
from tests.support.campaign_seed import seed_campaign
from tests.support.forms import action_post
from tests.support.staff import staff_login

pytestmark = pytest.mark.django_db

KEEP_INFORMED = "Keep me informed by Friends of the Earth: I agree to get its emails."


@pytest.fixture
def seed():
    """300 actions over 5 states; every third asked to be kept informed; a few deliveries
    addressed to a former holder; one constituent typed a spreadsheet formula as a name."""
    seed = seed_campaign(actions=300)
    actions = list(Action.objects.filter(campaign=seed.campaign).order_by("pk"))
    for action in actions[::3]:
        action.keep_informed, action.keep_informed_text = True, KEEP_INFORMED
    actions[4].first_name = "=HYPERLINK(1)"
    Action.objects.bulk_update(actions, ["keep_informed", "keep_informed_text", "first_name"])
    Delivery.objects.filter(action__in=actions[:5], official=seed.secretary).update(
        addressed_title="Secretary of State", addressed_name="Former Holder"
    )
    return seed


def _export_url(campaign, query=""):
    return reverse("admin:alerts_campaign_export", args=[campaign.pk]) + query


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; ")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(HEADER)
    return rows[1:]


def _guarded(text: str) -> str:
    """What a spreadsheet would run as a formula, made text by a leading apostrophe."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _expected(actions) -> list[list[str]]:
    """What each action's row must say, worked out from the ORM without alerts.exports."""
    rows = []
    deliveries = Delivery.objects.select_related("official__legislator")
    for action in actions.order_by("pk").select_related("referred_by"):
        written = list(deliveries.filter(action=action))
        names = sorted(
            " ".join(filter(None, [d.addressed_title, d.addressed_name]))
            if d.addressed_title
            else f"{d.official.title} {d.official.name}"
            for d in written
        )
        seats = [
            house_seat(d.official.legislator.state, d.official.legislator.district)
            for d in written
            if d.official.legislator and d.official.legislator.chamber == Chamber.HOUSE
        ]
        rows.append(
            [
                _guarded(action.first_name),
                _guarded(action.last_name),
                _guarded(action.email),
                _guarded(action.street),
                _guarded(action.city),
                action.state,
                action.zip_code,
                seats[0] if seats else "",
                "; ".join(names),
                _guarded(action.source),
                _guarded(action.referral_code),
                _guarded(action.referred_by.referral_code) if action.referred_by else "",
                action.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                action.confirmed_at.strftime("%Y-%m-%d %H:%M:%S") if action.confirmed_at else "",
                "yes" if action.keep_informed else "no",
                action.keep_informed_text,
            ]
        )
    return rows


def _staff_client(*perms, username="organizer") -> Client:
    user = User.objects.create_user(username, f"{username}@example.org", "x", is_staff=True)
    user.user_permissions.add(
        *(Permission.objects.get(content_type__app_label="alerts", codename=p) for p in perms)
    )
    client = Client()
    staff_login(client, user)
    return client


class TestCampaignExport:
    def test_every_row_and_column_equals_the_database(self, admin_client, seed):
        other = ActionFactory()  # another campaign's action stays out
        rows = _rows(admin_client.get(_export_url(seed.campaign)))
        assert len(rows) == 300
        assert rows == _expected(Action.objects.filter(campaign=seed.campaign))
        assert other.email not in {row[2] for row in rows}
        # What the seed gave them, as a reader of the file sees it.
        assert {row[7] for row in rows} >= {"CA-30", "CA-12", "TX-07", "WY-AL", ""}
        assert rows[0][8].count("; ") == 3  # two senators, the secretary, the representative
        assert "Secretary of State Former Holder" in rows[0][8]
        assert rows[4][0] == "'=HYPERLINK(1)"

    def test_keep_informed_filter(self, admin_client, seed):
        kept = Action.objects.filter(campaign=seed.campaign, keep_informed=True)
        rows = _rows(admin_client.get(_export_url(seed.campaign, "?keep_informed=1")))
        assert len(rows) == kept.count() == 100
        assert rows == _expected(kept)
        assert {row[14] for row in rows} == {"yes"}
        assert {row[15] for row in rows} == {KEEP_INFORMED}
        others = _rows(admin_client.get(_export_url(seed.campaign, "?keep_informed=0")))
        assert len(others) == 200 and {row[14] for row in others} == {"no"}

    def test_confirmed_filter(self, admin_client, seed):
        confirmed = Action.objects.filter(campaign=seed.campaign, confirmed_at__isnull=False)
        rows = _rows(admin_client.get(_export_url(seed.campaign, "?confirmed=1")))
        assert rows == _expected(confirmed)

    def test_a_filter_value_not_understood_is_refused_by_name(self, admin_client, seed):
        response = admin_client.get(_export_url(seed.campaign, "?keep_informed=yes"))
        assert response.status_code == 400
        assert "keep_informed must be 1 (yes) or 0 (no)" in response.content.decode()
        assert not ExportLog.objects.exists()

    def test_queries_do_not_grow_with_the_actions(self, admin_client, seed):
        small = seed_campaign(actions=30).campaign

        def count(campaign) -> int:
            with CaptureQueriesContext(connection) as queries:
                rows = _rows(admin_client.get(_export_url(campaign)))
            assert rows
            return len(queries)

        assert count(small) == count(seed.campaign)


class TestFromTheActionList:
    def _post(self, client, query, **data):
        url = reverse("admin:alerts_action_changelist") + query
        return client.post(url, {"action": "export_csv", "index": 0, **data})

    def test_select_all_exports_what_the_filters_leave(self, admin_client, seed):
        ActionFactory(keep_informed=True, keep_informed_text=KEEP_INFORMED)  # another campaign
        query = f"?campaign__id__exact={seed.campaign.pk}&keep_informed__exact=1"
        pks = Action.objects.filter(campaign=seed.campaign).values_list("pk", flat=True)[:1]
        response = self._post(
            admin_client, query, select_across="1", **{ACTION_CHECKBOX_NAME: list(pks)}
        )
        kept = Action.objects.filter(campaign=seed.campaign, keep_informed=True)
        assert _rows(response) == _expected(kept)
        log = ExportLog.objects.get()
        assert log.campaign == seed.campaign
        assert log.filters == {
            "campaign__id__exact": str(seed.campaign.pk),
            "keep_informed__exact": "1",
        }

    def test_the_actions_ticked(self, admin_client, seed):
        chosen = Action.objects.filter(campaign=seed.campaign).order_by("pk")[5:8]
        response = self._post(admin_client, "", **{ACTION_CHECKBOX_NAME: [a.pk for a in chosen]})
        assert _rows(response) == _expected(Action.objects.filter(pk__in=chosen))
        assert ExportLog.objects.get().filters == {"selected": 3}

    def test_a_search_is_recorded_as_one_not_as_what_was_searched(self, admin_client, seed):
        action = Action.objects.filter(campaign=seed.campaign).first()
        response = self._post(
            admin_client, f"?q={action.email}", **{ACTION_CHECKBOX_NAME: [action.pk]}
        )
        assert len(_rows(response)) == 1
        assert ExportLog.objects.get().filters == {"search": True, "selected": 1}


class TestWhoMayExport:
    def test_staff_without_the_permission_are_refused_and_see_no_button(self, seed):
        client = _staff_client("view_campaign", "view_action")
        assert client.get(_export_url(seed.campaign)).status_code == 403
        page = client.get(reverse("admin:alerts_campaign_change", args=[seed.campaign.pk]))
        assert page.status_code == 200
        assert _export_url(seed.campaign) not in page.content.decode()
        changelist = client.get(reverse("admin:alerts_action_changelist"))
        assert changelist.status_code == 200
        assert 'value="export_csv"' not in changelist.content.decode()
        refused = client.post(
            reverse("admin:alerts_action_changelist"),
            {"action": "export_csv", "index": 0, "select_across": "1"},
        )
        assert refused.get("Content-Type", "").startswith("text/html")
        assert not ExportLog.objects.exists()

    def test_staff_with_the_permission_see_the_button_and_get_the_file(self, seed):
        client = _staff_client("view_campaign", "view_action", "export_actions")
        page = client.get(reverse("admin:alerts_campaign_change", args=[seed.campaign.pk]))
        assert _export_url(seed.campaign) in page.content.decode()
        assert f"{_export_url(seed.campaign)}?keep_informed=1" in page.content.decode()
        changelist = client.get(reverse("admin:alerts_action_changelist"))
        assert 'value="export_csv"' in changelist.content.decode()
        assert len(_rows(client.get(_export_url(seed.campaign)))) == 300

    def test_the_permission_without_view_of_the_campaign_is_not_enough(self, seed):
        client = _staff_client("export_actions")
        assert client.get(_export_url(seed.campaign)).status_code == 403

    def test_superusers_have_it(self, admin_client, seed):
        page = admin_client.get(reverse("admin:alerts_campaign_change", args=[seed.campaign.pk]))
        assert _export_url(seed.campaign) in page.content.decode()

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, seed):
        response = client.get(_export_url(seed.campaign))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


class TestRecord:
    def test_each_export_is_recorded_and_logged_without_anyone_in_it(
        self, admin_client, admin_user, seed, caplog
    ):
        caplog.set_level(logging.INFO, logger="alerts.exports")
        rows = _rows(admin_client.get(_export_url(seed.campaign, "?keep_informed=1")))
        log = ExportLog.objects.get()
        assert (log.user, log.username, log.campaign) == (admin_user, "admin", seed.campaign)
        assert log.filters == {"keep_informed": True}
        assert (log.rows, log.complete) == (len(rows), True)
        assert log.finished_at >= log.started_at
        lines = [r.getMessage() for r in caplog.records if r.name == "alerts.exports"]
        assert lines == [
            f"export {log.pk} started by admin (user {admin_user.pk}): campaign "
            f"{seed.campaign.pk}, filters {{'keep_informed': True}}",
            lines[1],
        ]
        assert lines[1].startswith(f"export {log.pk} finished: {len(rows)} rows in ")
        everyone = {value for row in rows for value in row[:5]}
        assert not any(value in line for value in everyone for line in lines)

    # Committed: closing the response ends the request, and with it the connection.
    @pytest.mark.django_db(transaction=True)
    def test_a_download_cut_off_is_recorded_as_such(self, admin_client, seed):
        response = admin_client.get(_export_url(seed.campaign))
        next(iter(response.streaming_content))
        response.close()  # as a server does when the browser goes away
        log = ExportLog.objects.get()
        assert log.complete is False and log.finished_at is not None
        assert log.rows < 300

    def test_the_records_are_listed_in_the_admin_and_cannot_be_changed(self, admin_client, seed):
        _rows(admin_client.get(_export_url(seed.campaign)))
        log = ExportLog.objects.get()
        listing = admin_client.get(reverse("admin:alerts_exportlog_changelist"))
        assert listing.status_code == 200
        assert seed.campaign.title in listing.content.decode()
        assert admin_client.get(reverse("admin:alerts_exportlog_add")).status_code == 403
        page = admin_client.post(
            reverse("admin:alerts_exportlog_change", args=[log.pk]), {"rows": 0}
        )
        assert page.status_code == 403
        assert ExportLog.objects.get().rows == 300


class TestKeepInformedConsent:
    @pytest.fixture
    def url(self, campaign):
        return reverse("alerts:campaign_detail", args=[campaign.slug])

    def test_the_message_step_shows_it_unticked_with_the_organizations_name(
        self, client, campaign, email_officials, url
    ):
        page = client.post(url, action_post(email_officials, step="preview")).content.decode()
        box = page[page.index('name="keep_informed"') - 40 :][:200]
        assert 'type="checkbox"' in box and "checked" not in box
        assert keep_informed_text(campaign) in page
        assert campaign.organization_name in keep_informed_text(campaign)

    def test_ticked_it_is_recorded_with_its_wording(self, client, campaign, email_officials, url):
        response = client.post(url, action_post(email_officials, keep_informed="on"))
        assert response.status_code == 302
        action = Action.objects.get()
        assert action.keep_informed is True
        assert action.keep_informed_text == keep_informed_text(campaign)

    def test_unticked_nothing_is_recorded_and_the_message_still_goes(
        self, client, campaign, email_officials, url
    ):
        assert client.post(url, action_post(email_officials)).status_code == 302
        action = Action.objects.get()
        assert (action.keep_informed, action.keep_informed_text) == (False, "")
        assert action.deliveries.count() == len(email_officials)


def _many_actions(campaign, count: int) -> None:
    """`count` copies of one action of `campaign`, each with three deliveries, written by
    PostgreSQL itself (INSERT ... SELECT over generate_series) in a few seconds."""
    officials = [OfficialFactory() for _ in range(3)]
    # Wide rows (about 800 bytes each): the file is far larger than the memory allowed.
    template = ActionFactory(
        campaign=campaign,
        street="1 " + "Long Street Name " * 11,
        keep_informed=True,
        keep_informed_text="Keep me informed. " * 30,
    )
    for official in officials:
        DeliveryFactory(action=template, official=official)
    unique = {
        "public_id": "gen_random_uuid()",
        "email": "'many' || i || '@example.org'",
        "referral_code": "'many' || i",
        "form_token": "NULL",
    }
    columns = [f.column for f in Action._meta.concrete_fields if not f.primary_key]
    values = [unique.get(column, f'a."{column}"') for column in columns]
    delivery_columns = [f.column for f in Delivery._meta.concrete_fields]
    delivery_values = [
        {"id": "gen_random_uuid()", "action_id": "n.id"}.get(column, f'd."{column}"')
        for column in delivery_columns
    ]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH n AS (
                INSERT INTO alerts_action ({quoted})
                SELECT {", ".join(values)}
                FROM alerts_action a, generate_series(2, %s) AS i WHERE a.id = %s
                RETURNING id
            )
            INSERT INTO alerts_delivery ({", ".join(f'"{c}"' for c in delivery_columns)})
            SELECT {", ".join(delivery_values)}
            FROM n, alerts_delivery d WHERE d.action_id = %s
            """,  # noqa: S608 (column names from the models)
            [count, template.pk, template.pk],
        )


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _open_cursors() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        return cursor.fetchall()


def test_a_hundred_thousand_rows_stream_in_bounded_memory(admin_client):
    campaign = CampaignFactory()
    _many_actions(campaign, 100_000)
    response = admin_client.get(_export_url(campaign))
    assert response.streaming
    pieces = iter(response.streaming_content)
    before = _rss_mb()
    first = next(pieces)
    # The first piece comes while PostgreSQL still holds the rest behind an open cursor, one
    # that is not WITH HOLD (which would have computed every row before the first).
    assert first.decode("utf-8-sig").startswith(",".join(HEADER[:3]))
    assert _open_cursors() == [(False,)]
    peak, size, lines = before, len(first), first.count(b"\n")
    for n, piece in enumerate(pieces):
        size += len(piece)
        lines += piece.count(b"\n")
        if n % 20 == 0:
            peak = max(peak, _rss_mb())
    peak = max(peak, _rss_mb())
    assert lines == 1 + 100_000
    assert size > 70_000_000
    assert peak - before < 30, f"RSS grew by {peak - before:.1f} MB for {size:,} bytes"
    assert _open_cursors() == []
    log = ExportLog.objects.get()
    assert (log.rows, log.complete) == (100_000, True)
