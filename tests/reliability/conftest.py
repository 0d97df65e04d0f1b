"""Fixtures of the reliability suite: a Redis server of its own, workers it may kill, a store it
may inspect; and the report printed at the end of the run."""

from __future__ import annotations

import os
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPORT, RedisServer, WorkerProcess, wait_for  # noqa: E402


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


class Fleet:
    """Workers of one test on one database and one queue, and checks on what they stored."""

    def __init__(self, root: Path, broker_url: str, database_url: str, **values):
        self.root = root
        self.values = {"broker_url": broker_url, "database_url": database_url,
                       "queue": f"rel-{uuid.uuid4().hex[:10]}", "data_dir": str(root / "data"),
                       "wait_poll_seconds": "0.1", **values}
        self.workers: list[WorkerProcess] = []
        (root / "logs").mkdir(parents=True, exist_ok=True)

    def settings(self):
        from bj_support import settings
        return settings(**self.values)

    def worker(self, name: str, wait: bool = True, **extra) -> WorkerProcess:
        w = WorkerProcess(name, self.root / "logs", {**self.values, **extra})
        self.workers.append(w)
        return w.start(wait=wait)

    def submit(self, paths: list[str], **options) -> str:
        from braillejobs import jobs

        with self.settings():
            created = jobs.submit(paths, jobs.JobOptions.build(**options))
        return created.job_id

    def rows(self, job_id: str) -> list[dict]:
        from sqlalchemy import func, select

        from braillejobs.db.models import Document, Result
        from braillejobs.db.session import session_factory

        with self.settings():
            with session_factory()() as session:
                n_results = dict(session.execute(
                    select(Result.document_id, func.count()).where(Result.job_id == job_id)
                    .group_by(Result.document_id)).all())
                docs = session.execute(
                    select(Document.id, Document.path, Document.status, Document.attempts,
                           Document.error, Document.claimed_by)
                    .where(Document.job_id == job_id).order_by(Document.seq)).all()
        return [{"id": d.id, "path": d.path, "status": d.status, "attempts": d.attempts,
                 "error": d.error, "claimed_by": d.claimed_by,
                 "results": n_results.get(d.id, 0)} for d in docs]

    def counts(self, job_id: str) -> Counter:
        return Counter(r["status"] for r in self.rows(job_id))

    def wait_finished(self, job_id: str, timeout: float, supervise: bool = True) -> list[dict]:
        """Wait until no document is queued or running, restarting workers that exited (as a
        supervisor would); returns the rows."""
        def finished():
            if supervise:
                self.supervise()
            c = self.counts(job_id)
            return c["queued"] + c["running"] == 0
        try:
            wait_for(finished, timeout, f"job {job_id} to finish", interval=0.3)
        except AssertionError as exc:
            tails = "\n".join(f"--- {w.name} (generation {w.generation}, alive {w.alive()}):\n"
                              + w.log_text()[-1500:] for w in self.workers)
            raise AssertionError(f"{exc}: {dict(self.counts(job_id))}\n{tails}") from None
        return self.rows(job_id)

    def supervise(self) -> int:
        """Restart the workers that have exited; returns how many had exited unexpectedly."""
        unexpected = 0
        for w in self.workers:
            if not w.alive() and not getattr(w, "retired", False):
                status = w.proc.returncode
                if not w.expected_exit:
                    if status == 70:
                        REPORT.time_limit_exits += 1
                    else:
                        unexpected += 1
                        REPORT.worker_crashes += 1
                w.start(wait=False)
        return unexpected

    def check_exactly_once(self, rows: list[dict]) -> None:
        """Every document done with one result, or failed with a reason and no result."""
        REPORT.documents_checked += len(rows)
        lost = [r for r in rows if r["status"] in ("queued", "running")]
        dup = [r for r in rows if r["results"] > 1]
        done_without = [r for r in rows if r["status"] == "done" and r["results"] != 1]
        failed_silent = [r for r in rows if r["status"] == "failed" and not r["error"]]
        REPORT.lost += len(lost) + len(done_without)
        REPORT.duplicated += len(dup)
        assert not lost, f"documents left unfinished: {lost[:5]}"
        assert not dup, f"documents with more than one result: {dup[:5]}"
        assert not done_without, f"done documents without exactly one result: {done_without[:5]}"
        assert not failed_silent, f"failed documents without a reason: {failed_silent[:5]}"

    def stop_all(self) -> None:
        for w in self.workers:
            w.retired = True
            w.stop()

    def crashes(self) -> list[str]:
        """Workers that ended on their own with a status other than the time-limit exit."""
        return [f"{w.name}: exit {w.proc.returncode}" for w in self.workers
                if w.unexpected_exit() not in (None, 70)]


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
