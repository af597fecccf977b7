"""The campaign's dashboard and staffer report in the admin: who may see them, that the page
shows the database's numbers, the CSV download, and a bounded number of queries."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.admin.dashboard import TILES, tile_map
from alerts.models import Action, Call, Delivery
from alerts.reports import CSV_HEADER, Tally, staffer_report
from legislators import states
from tests.support.campaign_seed import seed_campaign
from tests.support.staff import staff_login

pytestmark = pytest.mark.django_db


def _url(name, campaign):
    return reverse(f"admin:alerts_campaign_{name}", args=[campaign.pk])


@pytest.fixture
def seed():
    return seed_campaign(actions=300)


def _staff_client(*perms) -> Client:
    user = User.objects.create_user("organizer", "organizer@example.org", "x", is_staff=True)
    user.user_permissions.add(
        *(Permission.objects.get(content_type__app_label="alerts", codename=p) for p in perms)
    )
    client = Client()
    staff_login(client, user)
    return client


def _figure(html: str, name: str) -> int:
    found = re.search(rf'data-figure="{name}">(\d+)<', html)
    assert found, name
    return int(found.group(1))


class TestDashboardPage:
    def test_the_change_page_links_to_the_dashboard(self, admin_client, seed):
        page = admin_client.get(reverse("admin:alerts_campaign_change", args=[seed.campaign.pk]))
        assert page.status_code == 200
        assert _url("dashboard", seed.campaign) in page.content.decode()

    def test_the_page_shows_the_databases_numbers(self, admin_client, seed):
        campaign = seed.campaign
        page = admin_client.get(_url("dashboard", campaign))
        assert page.status_code == 200
        html = page.content.decode()
        actions = Action.objects.filter(campaign=campaign)
        assert _figure(html, "total") == actions.count() == 300
        assert _figure(html, "confirmed") == actions.filter(confirmed_at__isnull=False).count()
        assert _figure(html, "unconfirmed") == actions.filter(confirmed_at__isnull=True).count()
        assert _figure(html, "public") == actions.counted().count()
        assert _figure(html, "referred") == actions.filter(referred_by__isnull=False).count()
        assert _figure(html, "goal") == campaign.goal
        assert _figure(html, "without-district") == 30
        assert (
            _figure(html, "deliveries")
            == Delivery.objects.filter(action__campaign=campaign).count()
        )
        assert _figure(html, "calls") == Call.objects.filter(campaign=campaign).count()
        ca = actions.filter(state="CA")
        assert re.search(
            rf'data-key="CA"><td>California</td><td>{ca.count()}</td>'
            rf"<td>{ca.filter(confirmed_at__isnull=False).count()}</td>",
            html,
        )
        assert "only once the constituent clicks the link" in html

    def test_the_charts_and_map_are_inline_svg_without_style_or_script(self, admin_client, seed):
        html = admin_client.get(_url("dashboard", seed.campaign)).content.decode()
        hourly = re.search(r'<svg class="chart chart-hourly".*?</svg>', html, re.S).group(0)
        assert hourly.count('<g class="bar">') == 24
        assert re.search(r'<svg class="chart chart-daily"', html)
        tile_map = re.search(r'<svg class="tile-map".*?</svg>', html, re.S).group(0)
        assert tile_map.count('<g class="tile ') == 51
        assert 'class="tile shade-5" data-state="CA"' in tile_map
        assert 'class="tile shade-0" data-state="OH"' in tile_map
        content = html[html.index('<div id="content-main"') :]
        assert "style=" not in content and "<script" not in content
        assert "css/campaign_dashboard.css" in html

    def test_queries_do_not_grow_with_the_actions(self, admin_client):
        counts = []
        for size in (12, 300):
            campaign = seed_campaign(actions=size).campaign
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(_url("dashboard", campaign)).status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]

    def test_no_such_campaign_is_404(self, admin_client):
        assert admin_client.get("/admin/alerts/campaign/999999/dashboard/").status_code == 404


class TestWhoMaySee:
    def test_anonymous_and_non_staff_are_sent_to_sign_in(self, seed):
        client = Client()
        for name in ("dashboard", "report", "report_csv"):
            response = client.get(_url(name, seed.campaign))
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
        User.objects.create_user("someone", "someone@example.org", "x")
        client.force_login(User.objects.get(username="someone"))
        response = client.get(_url("dashboard", seed.campaign))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_staff_without_view_permission_on_campaigns_are_refused(self, seed):
        client = _staff_client("view_action")
        for name in ("dashboard", "report", "report_csv"):
            assert client.get(_url(name, seed.campaign)).status_code == 403

    def test_view_permission_on_campaigns_shows_the_dashboard_and_the_csv(self, seed):
        client = _staff_client("view_campaign")
        page = client.get(_url("dashboard", seed.campaign))
        assert page.status_code == 200
        assert client.get(_url("report_csv", seed.campaign)).status_code == 200
        # The printable report quotes constituents: it takes view permission on actions too.
        assert f'href="{_url("report", seed.campaign)}"' not in page.content.decode()
        assert client.get(_url("report", seed.campaign)).status_code == 403

    def test_view_permission_on_campaigns_and_actions_shows_the_report(self, seed):
        client = _staff_client("view_campaign", "view_action")
        page = client.get(_url("dashboard", seed.campaign))
        assert f'href="{_url("report", seed.campaign)}"' in page.content.decode()
        assert client.get(_url("report", seed.campaign)).status_code == 200


class TestStafferReportPages:
    def test_the_printable_report_shows_each_office_and_no_contact_details(
        self, admin_client, seed
    ):
        campaign = seed.campaign
        page = admin_client.get(_url("report", campaign))
        assert page.status_code == 200
        html = page.content.decode()
        report = staffer_report(campaign)
        for office in report.offices:
            section = re.search(rf'data-office="{office.key}">.*?</section>', html, re.S).group(0)
            assert _figure(section, "constituents") == office.constituents
            assert _figure(section, "thank") == office.thank
            assert _figure(section, "urge") == office.urge
            assert _figure(section, "sent") == office.sent
            assert section.count('<blockquote class="voice">') == len(office.voices) == 10
        assert "Fund the program" in html and "Hold a hearing" in html
        for action in Action.objects.filter(campaign=campaign):
            assert action.email not in html
            assert action.street not in html
        # A page of its own: no admin chrome, print styles, no inline style or script.
        assert 'id="header"' not in html and "breadcrumbs" not in html
        assert "css/staffer_report.css" in html
        assert "style=" not in html and "<script" not in html

    def test_one_office(self, admin_client, seed):
        office = seed.representatives[("TX", 7)]
        html = admin_client.get(_url("report", seed.campaign), {"office": office.key}).content
        assert html.decode().count('<section class="office"') == 1
        assert f'data-office="{office.key}"' in html.decode()

    def test_the_csv_download_parses_and_matches(self, admin_client, seed):
        response = admin_client.get(_url("report_csv", seed.campaign))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert tuple(rows[0]) == CSV_HEADER
        report = staffer_report(seed.campaign)
        assert [
            (r[0], int(r[4]), int(r[5]), int(r[6]), int(r[7]), int(r[8])) for r in rows[1:]
        ] == [(o.key, o.constituents, o.thank, o.urge, o.executive, o.sent) for o in report.offices]

    def test_the_csv_of_one_office(self, admin_client, seed):
        office = seed.senators["NY"][0]
        response = admin_client.get(_url("report_csv", seed.campaign), {"office": office.key})
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert [r[0] for r in rows[1:]] == [office.key]


def test_the_tile_map_has_the_fifty_states_and_dc_each_in_its_own_place():
    assert set(TILES) == set(states.STATES) | {"DC"}
    assert len(set(TILES.values())) == 51


def test_tiles_are_shaded_against_the_busiest_state():
    tallies = [Tally("CA", "California", 100, 0), Tally("TX", "Texas", 50, 0)]
    tallies += [Tally("WY", "Wyoming", 1, 0), Tally("PR", "Puerto Rico", 400, 0)]
    tiles, width, height = tile_map(tallies)
    shades = {t.code: t.shade for t in tiles}
    # Territories are not on the grid and do not set its scale.
    assert (shades["CA"], shades["TX"], shades["WY"], shades["OH"]) == (5, 3, 1, 0)
    assert "PR" not in shades
    titles = {t.code: t.title for t in tiles}
    assert (titles["CA"], titles["WY"]) == ("California: 100 actions", "Wyoming: 1 action")
    assert (width, height) == (11 * 44, 8 * 44)
