"""What the final submit and the counter cost the database: the same statements for one
official as for seven, and none of them reading more rows as the campaign's actions grow
(checked on PostgreSQL's plans with tens of thousands of actions and deliveries)."""

import re
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.services import action_submit
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.forms import action_post, constituent

pytestmark = pytest.mark.django_db

# The final POST, as it goes today (a savepoint stands for the transaction in a test):
#   form: the live campaign, its fixed targets, how each is reached (2: the Senate's CWC list,
#   the offices' web forms); the campaign's cosigners and asks (the message variants); submit:
#   SAVEPOINT, the constituent's advisory lock, then one statement that inserts the action,
#   adds it to the count, checks the last 24 hours and inserts the deliveries (the lock and
#   that statement in one round trip), RELEASE SAVEPOINT. Before: 18 for 7 officials.
SUBMIT_QUERIES = 10

GROWING_TABLES = ("alerts_action", "alerts_delivery")


@pytest.fixture
def seven_officials(db):
    return [OfficialFactory(title=f"Secretary {n}") for n in range(7)]


@pytest.fixture
def campaign(seven_officials):
    return CampaignFactory(targets=seven_officials)


def _submit(client, campaign, officials, *, email, ip="10.1.0.1"):
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    data = action_post(officials, email=email)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, REMOTE_ADDR=ip)
    assert response.status_code == 302, response.content.decode()[:2000]
    return [q["sql"] for q in queries.captured_queries]


def test_the_submit_costs_the_same_statements_for_one_official_as_for_seven(
    client, campaign, seven_officials
):
    one = _submit(client, campaign, seven_officials[:1], email="one@example.org")
    seven = _submit(client, campaign, seven_officials, email="seven@example.org", ip="10.1.0.2")
    assert len(one) == len(seven) == SUBMIT_QUERIES, "\n".join(seven)
    assert Delivery.objects.count() == 8


def test_an_official_written_today_is_skipped_in_the_same_statements(
    client, campaign, seven_officials
):
    _submit(client, campaign, seven_officials[:2], email="again@example.org")
    again = _submit(client, campaign, seven_officials, email="AGAIN@example.org", ip="10.1.0.2")
    assert len(again) == SUBMIT_QUERIES
    action = Action.objects.get(email="AGAIN@example.org")
    assert set(action.skipped_officials.all()) == set(seven_officials[:2])
    assert action.deliveries.count() == 5


def _submit_in_thread(campaign, officials, *, email, then=None):
    """`action_submit` on a connection of its own; `then()` runs before its commit."""
    outcome = {}

    def run():
        try:
            with transaction.atomic():
                outcome["action"] = action_submit(
                    campaign=campaign,
                    constituent={**constituent(1), "email": email},
                    subject="Please act",
                    message="",
                    officials=officials,
                    consent_text="I agree.",
                ).action
                if then is not None:
                    then()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_email_at_once_write_each_official_once(campaign, seven_officials):
    """The second waits for the first's lock, then its 24-hour check sees the first's rows."""
    first_written = threading.Event()
    first, first_outcome = _submit_in_thread(
        campaign,
        seven_officials,
        email="twice@example.org",
        then=lambda: (first_written.set(), time.sleep(1.0)),
    )
    assert first_written.wait(30)
    second, second_outcome = _submit_in_thread(campaign, seven_officials, email="TWICE@example.org")
    for thread in (first, second):
        thread.join(60)
    first_action, second_action = first_outcome["action"], second_outcome["action"]
    assert first_action.deliveries.count() == 7
    assert second_action.deliveries.count() == 0
    assert set(second_action.skipped_officials.all()) == set(seven_officials)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_blasts_submits_reuse_statements_postgresql_has_prepared(
    client, campaign, seven_officials
):
    """Parsed and planned once per connection, not once per submit (config/settings/base.py):
    after a few submits, the submit's writes run as prepared statements."""
    for n in range(6):
        _submit(client, campaign, seven_officials, email=f"p{n}@example.org", ip=f"10.2.0.{n}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    for table in ("alerts_action", "alerts_delivery", "alerts_actioncount"):
        assert any(f'INSERT INTO "{table}"' in sql for sql in prepared), (table, prepared)


# --- No scan that grows with the actions (PostgreSQL) ----------------------------------------


def _fill(campaign, officials, *, actions: int):
    """`actions` actions on this campaign (and as many on another), each with a delivery to
    each official, written in a few INSERT … SELECT statements; then ANALYZE, as autovacuum
    would, so the planner knows the tables' sizes."""
    other = CampaignFactory()
    with connection.cursor() as cursor:
        for target in (campaign, other):
            cursor.execute(
                """
                INSERT INTO alerts_action (public_id, campaign_id, prefix, first_name, last_name,
                    email, street, city, state, zip_code, phone, subject, message, consent_text,
                    source, referral_code, ip_hash, created_at, confirmed_at)
                SELECT gen_random_uuid(), %s, '', 'Ani', 'Petrosyan',
                    'bulk' || i || '@example.org', '1 Main St', 'Glendale', 'CA', '91203', '',
                    'Please act', '', 'I agree.', '', 'b' || %s || '-' || i, '',
                    now() - (i || ' minutes')::interval, now()
                FROM generate_series(1, %s) AS i
                """,
                [target.pk, target.pk, actions],
            )
        cursor.execute(
            """
            INSERT INTO alerts_delivery (id, action_id, official_id, channel, status, variant,
                subject, organization_statement, constituent_message, body, attempts,
                last_error, manual_reason, created_at, updated_at, sent_at)
            SELECT gen_random_uuid(), a.id, o.id, 'email', 'sent', 'executive', 'Please act',
                'Please act.', '', 'Dear Secretary', 1, '', '', a.created_at, a.created_at,
                a.created_at
            FROM alerts_action a CROSS JOIN unnest(%s::bigint[]) AS o(id)
            """,
            [[o.pk for o in officials]],
        )
        cursor.execute("ANALYZE alerts_action")
        cursor.execute("ANALYZE alerts_delivery")


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _scans_of_growing_tables(sql: str) -> list[str]:
    return [
        line.strip()
        for line in _plan(sql).splitlines()
        if re.search(rf"Seq Scan on ({'|'.join(GROWING_TABLES)})\b", line)
    ]


def _reads(queries):
    """The statements that read tables: SELECTs, and statements with CTEs (the submit's)."""
    return [sql for sql in queries if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_neither_the_submit_nor_the_counter_scans_the_actions_or_deliveries(
    client, campaign, seven_officials
):
    _fill(campaign, seven_officials, actions=20_000)
    # The same constituent again: the repeat check has rows to find.
    submit = _submit(client, campaign, seven_officials, email="bulk17@example.org")
    count_url = reverse("alerts:campaign_count", args=[campaign.slug])
    with CaptureQueriesContext(connection) as counter:
        assert client.get(count_url).status_code == 200
    reads = _reads(submit) + _reads([q["sql"] for q in counter.captured_queries])
    for sql in reads:
        assert _scans_of_growing_tables(sql) == [], sql
    # Not a scan of every action of the campaign through the (campaign, email) index either.
    [repeat_check] = [sql for sql in reads if "UPPER(" in sql]
    assert "action_upper_email_campaign" in _plan(repeat_check)


def test_the_actions_random_unique_columns_have_one_index_each():
    """Form tokens and referral codes are random, so each index on them takes a submit's entry
    on a random page: their unique index only, without the LIKE index Django adds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s", [Action._meta.db_table]
        )
        definitions = [row[0] for row in cursor.fetchall()]
    for name in ("form_token", "referral_code"):
        column = Action._meta.get_field(name).column
        on_column = [d for d in definitions if re.search(rf"\(\"?{column}\"?[ )]", d)]
        assert len(on_column) == 1, on_column
        assert on_column[0].startswith("CREATE UNIQUE INDEX"), on_column
    assert not [d for d in definitions if "pattern_ops" in d]
