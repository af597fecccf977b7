"""The dashboard's and the staffer report's reads (alerts.reports), each figure checked against
an ORM count of its own over a seeded campaign of a few hundred actions in several states."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Action, ActionCount, Call, Delivery
from alerts.reports import CSV_HEADER, campaign_dashboard, staffer_report, staffer_report_csv
from alerts.selectors import actions_counted
from legislators import states
from legislators.models import Chamber, house_seat
from tests.factories import ActionFactory, CampaignFactory
from tests.support.campaign_seed import seed_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed():
    return seed_campaign(actions=300)


def _actions(campaign):
    return Action.objects.filter(campaign=campaign)


class TestDashboard:
    def test_the_totals_are_the_databases(self, seed):
        campaign = seed.campaign
        board = campaign_dashboard(campaign)
        actions = _actions(campaign)
        assert board.total == actions.count() == 300
        assert board.confirmed == actions.filter(confirmed_at__isnull=False).count() == 225
        assert board.unconfirmed == actions.filter(confirmed_at__isnull=True).count() == 75
        assert board.counted == actions.counted().count()
        assert board.public_count == actions_counted(campaign) == board.counted
        assert board.with_message == actions.exclude(message="").count() == 200
        assert board.referred == actions.filter(referred_by__isnull=False).count() == 18
        assert (board.goal, board.goal_percent) == (400, 225 * 100 // 400)

    def test_by_state_and_by_district(self, seed):
        campaign = seed.campaign
        board = campaign_dashboard(campaign)
        actions = _actions(campaign)
        expected = {
            code: (
                actions.filter(state=code).count(),
                actions.filter(state=code, confirmed_at__isnull=False).count(),
            )
            for code in actions.values_list("state", flat=True).distinct()
        }
        assert {t.key: (t.total, t.confirmed) for t in board.by_state} == expected
        assert len(expected) == 5
        assert [t.total for t in board.by_state] == sorted(
            (t.total for t in board.by_state), reverse=True
        )
        assert board.by_state[0].label == states.ALL[board.by_state[0].key]

        by_district = {t.key: (t.total, t.confirmed) for t in board.by_district}
        expected_districts = {}
        for (state, district), official in seed.representatives.items():
            wrote = actions.filter(deliveries__official=official)
            expected_districts[house_seat(state, district)] = (
                wrote.count(),
                wrote.filter(confirmed_at__isnull=False).count(),
            )
        assert by_district == expected_districts
        assert "WY-AL" in by_district and "CA-30" in by_district
        no_representative = actions.exclude(
            deliveries__official__legislator__chamber=Chamber.HOUSE
        ).count()
        assert board.without_district == no_representative == 30
        assert sum(t.total for t in board.by_district) + board.without_district == board.total

    def test_by_source_and_top_referrers(self, seed):
        campaign = seed.campaign
        board = campaign_dashboard(campaign)
        actions = _actions(campaign)
        expected = {
            source: actions.filter(source=source).count()
            for source in actions.values_list("source", flat=True).distinct()
        }
        assert {t.key: t.total for t in board.by_source} == expected
        assert {t.key: t.label for t in board.by_source}[""] == "(none)"

        referrers = [(r.first_name, r.city, r.state, r.referred) for r in board.top_referrers]
        expected_referrers = sorted(
            (
                (a.first_name, a.city, a.state, actions.filter(referred_by=a).count())
                for a in actions.filter(referrals__isnull=False).distinct()
            ),
            key=lambda row: -row[3],
        )
        assert referrers == expected_referrers
        assert [r[3] for r in referrers] == [9, 6, 3]

    def test_deliveries_and_calls(self, seed):
        campaign = seed.campaign
        board = campaign_dashboard(campaign)
        deliveries = Delivery.objects.filter(action__campaign=campaign)
        for channel in ("email", "cwc", "web_form"):
            for status in Delivery.Status.values:
                n = deliveries.filter(channel=channel, status=status).count()
                assert board.deliveries[channel][status] == n, (channel, status)
        assert set(board.deliveries) == set(deliveries.values_list("channel", flat=True))
        assert board.deliveries_total == deliveries.count()
        assert board.deliveries_by_status["pending"] == deliveries.filter(status="pending").count()
        calls = Call.objects.filter(campaign=campaign)
        assert board.calls_by_outcome == {
            outcome: calls.filter(outcome=outcome).count() for outcome in Call.Outcome.values
        }
        assert board.calls_total == calls.count() > 0

    def test_hourly_for_the_first_day_then_daily_each_bucket_the_databases(self, seed):
        campaign = seed.campaign
        board = campaign_dashboard(campaign)
        actions = _actions(campaign)
        start = campaign.starts_at
        assert board.first_day_start == start
        assert len(board.hourly) == 24
        for i, bucket in enumerate(board.hourly):
            assert bucket.start == start + dt.timedelta(hours=i)
            in_hour = actions.filter(
                created_at__gte=bucket.start, created_at__lt=bucket.start + dt.timedelta(hours=1)
            )
            assert (bucket.total, bucket.confirmed) == (
                in_hour.count(),
                in_hour.filter(confirmed_at__isnull=False).count(),
            )
        cutoff = start + dt.timedelta(hours=24)
        days = [timezone.localtime(b.start).date() for b in board.daily]
        assert days == [
            timezone.localtime(cutoff).date() + dt.timedelta(days=n) for n in range(len(days))
        ]
        assert days[-1] == timezone.localdate()
        for bucket in board.daily:
            day_end = timezone.make_aware(
                dt.datetime.combine(timezone.localtime(bucket.start).date(), dt.time())
                + dt.timedelta(days=1)
            )
            in_day = actions.filter(
                created_at__gte=max(bucket.start, cutoff), created_at__lt=day_end
            )
            assert bucket.total == in_day.count(), bucket.start
        assert sum(b.total for b in board.hourly + board.daily) == board.total
        assert sum(b.confirmed for b in board.hourly + board.daily) == board.confirmed
        assert sum(b.total for b in board.hourly) == 100

    def test_a_fixed_number_of_queries_whatever_the_number_of_actions(self):
        counts = []
        for size in (12, 300):
            campaign = seed_campaign(actions=size).campaign
            with CaptureQueriesContext(connection) as captured:
                campaign_dashboard(campaign)
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1] <= 10

    def test_a_campaign_without_actions(self):
        campaign = CampaignFactory(starts_at=None, double_opt_in=True)
        board = campaign_dashboard(campaign)
        assert (board.total, board.public_count, board.hourly, board.daily) == (0, 0, [], [])
        assert board.by_state == board.by_district == board.top_referrers == []
        assert board.calls_total == board.deliveries_total == 0


class TestCountsExplained:
    def test_double_opt_in_says_only_confirmed_actions_count(self, seed):
        line = campaign_dashboard(seed.campaign).counts_explained
        assert "only once the constituent clicks the link" in line
        assert "shows the 225 confirmed" in line
        assert "all 300 actions, 75 of them not confirmed" in line
        assert "maintained count" not in line

    def test_without_opt_in_every_action_counts(self):
        campaign = CampaignFactory(double_opt_in=False)
        ActionFactory.create_batch(3, campaign=campaign)
        ActionCount.objects.create(campaign=campaign, slot=0, actions=3, confirmed=0)
        board = campaign_dashboard(campaign)
        assert board.public_count == board.counted == board.total == 3
        assert "every action counts" in board.counts_explained

    def test_a_maintained_count_that_drifted_is_told(self, seed):
        ActionCount.objects.filter(campaign=seed.campaign).update(confirmed=220)
        board = campaign_dashboard(seed.campaign)
        assert (board.public_count, board.counted) == (220, 225)
        assert "maintained count (220), which differs from a recount" in board.counts_explained


class TestStafferReport:
    def test_per_office_numbers_are_the_databases(self, seed):
        campaign = seed.campaign
        report = staffer_report(campaign)
        counted = _actions(campaign).counted()
        officials = [
            *[o for pair in seed.senators.values() for o in pair],
            *seed.representatives.values(),
            seed.secretary,
        ]
        assert {o.key for o in report.offices} == {o.key for o in officials}
        rows = {o.key: o for o in report.offices}
        for official in officials:
            deliveries = Delivery.objects.filter(official=official, action__in=counted)
            row = rows[official.key]
            assert row.constituents == deliveries.count() > 0
            assert row.thank == deliveries.filter(variant="thank").count()
            assert row.urge == deliveries.filter(variant="urge").count()
            assert row.executive == deliveries.filter(variant="executive").count()
            assert row.sent == deliveries.filter(status="sent").count()
            assert row.thank + row.urge + row.executive == row.constituents
        # Unconfirmed actions never reached the office and are not counted.
        assert rows[seed.secretary.key].constituents == 225
        assert Delivery.objects.filter(official=seed.secretary).count() == 300
        first_senator = seed.senators["CA"][0]
        assert rows[first_senator.key].thank == rows[first_senator.key].constituents
        assert (
            rows[seed.senators["CA"][1].key].urge == rows[seed.senators["CA"][1].key].constituents
        )
        assert rows[seed.secretary.key].seat == ""
        assert rows[first_senator.key].seat == "CA"
        assert rows[seed.representatives[("WY", 0)].key].seat == "WY-AL"

    def test_offices_ordered_executives_then_states_senators_first(self, seed):
        seats = [o.seat for o in staffer_report(seed.campaign).offices]
        assert seats[0] == ""
        assert seats[1:6] == ["CA", "CA", "CA-12", "CA-30", "NY"]

    def test_asks_in_order(self, seed):
        asks = staffer_report(seed.campaign).asks
        assert [(a.position, a.title) for a in asks] == [
            (1, "Fund the program"),
            (2, "Hold a hearing"),
        ]

    def test_voices_are_the_latest_own_words_named_by_first_name_and_place(self, seed):
        campaign = seed.campaign
        official = seed.representatives[("NY", 10)]
        report = staffer_report(campaign, office_key=official.key)
        assert [o.key for o in report.offices] == [official.key]
        voices = report.offices[0].voices
        expected = list(
            _actions(campaign)
            .counted()
            .filter(deliveries__official=official)
            .exclude(message="")
            .order_by("-created_at", "-pk")[:10]
        )
        assert len(voices) == 10
        assert [(v.first_name, v.city, v.state, v.message) for v in voices] == [
            (a.first_name, a.city, a.state, a.message) for a in expected
        ]
        # Nothing else about the person is carried: no email, street, last name or ZIP.
        assert set(voices[0].__dataclass_fields__) == {
            "first_name",
            "city",
            "state",
            "message",
            "created_at",
        }

    def test_a_sample_of_fewer_and_of_none(self, seed):
        report = staffer_report(seed.campaign, messages=2)
        assert all(len(o.voices) == 2 for o in report.offices)
        assert all(o.voices == [] for o in staffer_report(seed.campaign, messages=0).offices)

    def test_an_office_nobody_wrote_to(self, seed):
        assert staffer_report(seed.campaign, office_key="no-such-office").offices == []

    def test_three_queries_whatever_the_size(self):
        counts = []
        for size in (12, 300):
            campaign = seed_campaign(actions=size).campaign
            with CaptureQueriesContext(connection) as captured:
                staffer_report(campaign)
            counts.append(len(captured.captured_queries))
        assert counts == [3, 3]

    def test_the_csv_parses_and_matches_the_report(self, seed):
        report = staffer_report(seed.campaign)
        out = io.StringIO()
        staffer_report_csv(report, out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert tuple(rows[0]) == CSV_HEADER
        assert [
            (r["office_key"], int(r["constituents"]), int(r["thank"]), int(r["urge"])) for r in rows
        ] == [(o.key, o.constituents, o.thank, o.urge) for o in report.offices]
        assert [(int(r["executive"]), int(r["delivered"]), r["seat"]) for r in rows] == [
            (o.executive, o.sent, o.seat) for o in report.offices
        ]
