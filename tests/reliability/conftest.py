"""Fixtures of the reliability suite: a Redis server of its own, workers it may kill, a store it
may inspect; and the report printed at the end of the run."""

from __future__ import annotations

import os

import pytest

from tests.reliability.harness import REPORT, Fleet, RedisServer


def pytest_collection_modifyitems(config, items):
    """The slow rounds run when asked for (``-m slow`` or BRAILLEJOBS_TEST_SLOW=1), not by
    default: the default suite keeps within its time budget."""
    wanted = "slow" in (config.getoption("markexpr", "") or "") or \
        os.environ.get("BRAILLEJOBS_TEST_SLOW") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="slow fault rounds: run with -m slow or "
                                   "BRAILLEJOBS_TEST_SLOW=1")
    for item in items:
        if "slow" in item.keywords and "reliability" in str(item.fspath):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran = [r for key in ("passed", "failed", "error")
           for r in terminalreporter.stats.get(key, [])
           if "tests/reliability" in getattr(r, "nodeid", "")]
    if not ran:
        return
    terminalreporter.section("braillejobs reliability report")
    for line in REPORT.lines():
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def fault_redis(tmp_path_factory):
    """A redis-server of this run (not the shared one): tests may restart it."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop(hard=True)


@pytest.fixture
def fleet_factory(tmp_path):
    made: list[Fleet] = []

    def make(broker_url: str, database_url: str, **values) -> Fleet:
        fleet = Fleet(tmp_path / f"fleet{len(made)}", broker_url, database_url, **values)
        made.append(fleet)
        return fleet

    yield make
    for fleet in made:
        fleet.stop_all()
