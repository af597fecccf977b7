"""The system check that keeps the broker from handing out twice a message still in hand: the
visibility timeout outlasts the task time limit, the lease and the longest countdown; the
lease outlasts the time limit; the soft limit comes before the hard one."""

import pytest
from django.core.checks import run_checks

CHECK_IDS = {"alerts.E011", "alerts.E012", "alerts.E013"}


def _errors():
    return sorted((message.id, message.msg) for message in run_checks() if message.id in CHECK_IDS)


@pytest.fixture
def redis_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.CELERY_TASK_TIME_LIMIT = 120
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 110
    settings.DELIVERY_LEASE_SECONDS = 150
    settings.DELIVERY_MAX_COUNTDOWN_SECONDS = 300
    return settings


def test_the_settings_as_shipped_pass():
    assert _errors() == []


def test_consistent_timings_pass(redis_broker):
    assert _errors() == []


NAMES = ("CELERY_TASK_TIME_LIMIT", "DELIVERY_LEASE_SECONDS", "DELIVERY_MAX_COUNTDOWN_SECONDS")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"DELIVERY_LEASE_SECONDS": 1000}, {"DELIVERY_LEASE_SECONDS"}),
        ({"DELIVERY_MAX_COUNTDOWN_SECONDS": 1000}, {"DELIVERY_MAX_COUNTDOWN_SECONDS"}),
        # A time limit at the visibility timeout: the lease, longer still, is past it too.
        (
            {
                "CELERY_TASK_TIME_LIMIT": 1000,
                "CELERY_TASK_SOFT_TIME_LIMIT": 990,
                "DELIVERY_LEASE_SECONDS": 1030,
            },
            {"CELERY_TASK_TIME_LIMIT", "DELIVERY_LEASE_SECONDS"},
        ),
    ],
)
def test_a_visibility_timeout_not_longer_than_what_a_message_may_wait_is_refused(
    redis_broker, changes, named
):
    redis_broker.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1000}
    for name, seconds in changes.items():
        setattr(redis_broker, name, seconds)
    errors = _errors()
    assert {error_id for error_id, _ in errors} == {"alerts.E011"}
    assert {name for name in NAMES for _, text in errors if f" {name} " in text} == named
    assert len(errors) == len(named)

    redis_broker.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1031}
    assert _errors() == []


def test_a_redis_broker_without_a_visibility_timeout_is_refused(redis_broker):
    # Kombu's default (an hour) is not what this project decided; it must be set.
    redis_broker.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert {error_id for error_id, _ in _errors()} == {"alerts.E011"}


def test_the_filesystem_broker_has_no_visibility_timeout_to_check(redis_broker):
    redis_broker.CELERY_BROKER_URL = "filesystem://"
    redis_broker.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert _errors() == []


def test_a_lease_not_longer_than_the_task_time_limit_is_refused(redis_broker):
    redis_broker.DELIVERY_LEASE_SECONDS = 120
    assert [error_id for error_id, _ in _errors()] == ["alerts.E012"]


def test_a_soft_time_limit_not_before_the_hard_one_is_refused(redis_broker):
    redis_broker.CELERY_TASK_SOFT_TIME_LIMIT = 120
    assert [error_id for error_id, _ in _errors()] == ["alerts.E013"]
