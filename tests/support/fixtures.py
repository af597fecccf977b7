"""Fixture factories for the tests' own servers."""

from collections.abc import Callable

import pytest


def server_fixture(factory: Callable, doc: str | None = None):
    """A function-scoped fixture: `factory().start()` before the test, `.stop()` after it,
    named after the module attribute it is assigned to: `receiver = server_fixture(HttpReceiver)`.
    """

    def fixture():
        server = factory().start()
        yield server
        server.stop()

    fixture.__doc__ = doc
    return pytest.fixture(fixture)
