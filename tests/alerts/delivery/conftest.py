"""Fixtures of the delivery tests."""

import pytest

from alerts.delivery.channels import http


@pytest.fixture
def fresh_http_pool():
    """http.py builds its PoolManager (with the timeouts of the moment) once per process."""

    def reset():
        if http._pool is not None:
            http._pool.clear()
        http._pool = None

    reset()
    yield
    reset()
