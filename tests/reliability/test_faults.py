"""Fault injection with real processes: kill -9 in the middle of tasks, a Redis restart, a
PostgreSQL stop, SIGTERM, a poison document. Every loop is bounded by a count and a deadline.

The timings are shortened through the settings (time limit, visibility timeout) so that a
redelivery takes seconds, not the production hour; the mechanisms are the production ones."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.reliability.harness import REPORT, PostgresCluster, claimer_pid, wait_for
from tests.reliability.texts import prose, write_corpus

pytestmark = [pytest.mark.redis]

# Shortened reliability timings: a killed worker's message comes back ~8 s after it was taken;
# a message the broker lost is sent again once its job has been quiet for 2 s.
FAST = {"task_time_limit": 5, "visibility_timeout": 8, "documents_per_task": 3,
        "max_attempts": 10, "lost_message_seconds": 2}


def _expected_brf(path: Path) -> bytes:
    from braillejobs import formats
    from braillejobs.translate.registry import get_engine

    opts = formats.RenderOptions(format="brf", cells_per_line=40, lines_per_page=25,
                                 duplex=False, volume_sheets=50)
    prepared = formats.prepare(path.read_bytes(), path.name, opts)
    engine = get_engine("louis", "en-ueb-g2.ctb")
    return formats.finish(prepared, engine.translate_lines(prepared.lines,
                                                           prepared.typeforms)).content


def _stored(fleet, doc_ids: list[int]) -> dict[int, bytes]:
    from sqlalchemy import select

    from braillejobs.db.models import Result
    from braillejobs.db.session import session_factory

    with fleet.settings():
        with session_factory()() as session:
            return dict(session.execute(select(Result.document_id, Result.content)
                                        .where(Result.document_id.in_(doc_ids))).all())


def _running_claims(fleet, job_id: str) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from braillejobs.db.models import Document
    from braillejobs.db.session import session_factory

    with fleet.settings():
        with session_factory()() as session:
            return list(session.execute(select(Document.id, Document.claimed_by).where(
                Document.job_id == job_id, Document.status == "running")).all())


def _kill_rounds(fleet_factory, fault_redis, pg_url, tmp_path, rounds: int) -> None:
    fleet = fleet_factory(fault_redis.url, pg_url, **FAST)
    docs = write_corpus(tmp_path / "in", count=rounds * 16 + 40, size=24_000, seed=rounds)
    workers = [fleet.worker("a"), fleet.worker("b")]
    job = fleet.submit([str(tmp_path / "in")], format="brf", engine="louis")
    rng = random.Random(rounds)
    killed_docs: set[int] = set()
    survived = 0
    deadline = time.monotonic() + 40 + rounds * 12
    n = 0
    while survived < rounds and time.monotonic() < deadline:
        victim = workers[n % 2]
        n += 1
        if not victim.alive():
            victim.start()
        victim.wait_ready()

        def holding():
            return [i for i, by in _running_claims(fleet, job) if claimer_pid(by) == victim.pid]
        try:
            wait_for(holding, 20, f"worker {victim.name} to claim documents", interval=0.02)
        except AssertionError:
            if fleet.counts(job)["queued"] == 0:
                break  # the job ran out of work before the rounds did
            raise
        time.sleep(rng.uniform(0, 0.05))
        victim.kill9()
        caught = holding()  # still running under the dead worker: it died mid-task
        if caught:
            survived += 1
            REPORT.kill_rounds += 1
            killed_docs.update(caught)
        victim.start(wait=False)
    assert survived >= rounds, f"only {survived} of {rounds} kills landed in the middle of a task"

    rows = fleet.wait_finished(job, timeout=120)
    assert not fleet.crashes(), fleet.crashes()
    fleet.check_exactly_once(rows)
    assert all(r["status"] == "done" for r in rows), [r for r in rows if r["status"] != "done"]
    assert len(rows) == len(docs)
    by_id = {r["id"]: r for r in rows}
    # The documents caught mid-task were claimed again: their attempts are recorded ...
    assert all(by_id[i]["attempts"] >= 2 for i in killed_docs)
    # ... and what was stored for them is exactly what a clean run gives.
    stored = _stored(fleet, sorted(killed_docs))
    paths = {r["id"]: tmp_path / "in" / r["path"] for r in rows}
    for doc_id in sorted(killed_docs):
        assert stored[doc_id] == _expected_brf(paths[doc_id]), f"document {doc_id} differs"


@pytest.mark.postgres
def test_kill9_workers_mid_task_five_rounds(fleet_factory, fault_redis, pg_url, tmp_path):
    _kill_rounds(fleet_factory, fault_redis, pg_url, tmp_path, rounds=5)


@pytest.mark.slow
@pytest.mark.postgres
def test_kill9_workers_mid_task_twenty_rounds(fleet_factory, fault_redis, pg_url, tmp_path):
    _kill_rounds(fleet_factory, fault_redis, pg_url, tmp_path, rounds=20)


def test_a_message_the_broker_lost_is_sent_again(fleet_factory, fault_redis, tmp_path):
    from braillejobs.queue import PRIORITIES, queue_key

    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}", **FAST)
    write_corpus(tmp_path / "in", count=9, size=2_000, seed=9)
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    # The oldest message taken off the list as a worker's BRPOP takes it, and never recorded as
    # held: what a broker restart between the two steps leaves.
    lost = fault_redis.client().rpop(queue_key(fleet.values["queue"], PRIORITIES["normal"]))
    assert lost
    worker = fleet.worker("a")
    rows = fleet.wait_finished(job, timeout=60, supervise=False)
    fleet.check_exactly_once(rows)
    assert [r["status"] for r in rows] == ["done"] * 9
    assert "3 queued document(s) had no task message in the broker" in worker.log_text()


def test_redis_restart_during_a_job(fleet_factory, fault_redis, tmp_path):
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}", **FAST)
    write_corpus(tmp_path / "in", count=60, size=20_000, seed=7)
    workers = [fleet.worker("a"), fleet.worker("b")]
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    wait_for(lambda: fleet.counts(job)["done"] >= 3, 60, "the first documents")
    assert fleet.counts(job)["queued"] > 0, "the job finished before Redis could be restarted"
    fault_redis.restart(down_seconds=1.5)
    rows = fleet.wait_finished(job, timeout=120, supervise=False)
    fleet.check_exactly_once(rows)
    assert all(r["status"] == "done" for r in rows)
    REPORT.redis_restarts += 1
    # The same worker processes reconnected: none died, and they take new work.
    assert all(w.alive() and w.generation == 1 for w in workers), fleet.crashes()
    write_corpus(tmp_path / "after", count=6, size=2_000, seed=8)
    job2 = fleet.submit([str(tmp_path / "after")], format="brf")
    rows2 = fleet.wait_finished(job2, timeout=60, supervise=False)
    fleet.check_exactly_once(rows2)
    assert all(r["status"] == "done" for r in rows2)


@pytest.fixture
def own_postgres():
    why = PostgresCluster.available()
    if why:
        pytest.skip(f"cannot make a throwaway PostgreSQL cluster: {why}")
    root = Path(tempfile.mkdtemp(prefix="bj-pg-"))
    cluster = PostgresCluster(root).init()
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


def _stop_postgres_mid_job(fleet, own_postgres, tmp_path, count: int, seed: int):
    """Start one worker on a job of ``count`` documents; stop PostgreSQL once the first are done
    and some are still queued. Returns the worker and the job."""
    write_corpus(tmp_path / "in", count=count, size=20_000, seed=seed)
    worker = fleet.worker("a")
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    wait_for(lambda: fleet.counts(job)["done"] >= 3, 60, "the first documents")
    assert fleet.counts(job)["queued"] > 0, "the job finished before the database was stopped"
    own_postgres.stop("immediate")
    return worker, job


def _all_done_once_by_the_same_worker(fleet, job, worker) -> None:
    rows = fleet.wait_finished(job, timeout=120, supervise=False)
    fleet.check_exactly_once(rows)
    assert all(r["status"] == "done" for r in rows)
    assert worker.alive() and worker.generation == 1, worker.log_text()[-3000:]


@pytest.mark.postgres
def test_postgres_stopped_for_seconds_during_a_job(fleet_factory, fault_redis, own_postgres,
                                                   tmp_path):
    fleet = fleet_factory(fault_redis.url, own_postgres.url, **FAST)
    worker, job = _stop_postgres_mid_job(fleet, own_postgres, tmp_path, count=50, seed=11)
    time.sleep(4)
    own_postgres.start()
    _all_done_once_by_the_same_worker(fleet, job, worker)
    log = worker.log_text()
    assert "database unreachable" in log, log[-3000:]
    assert "Traceback" not in log.split("database unreachable", 1)[0][-2000:]
    REPORT.postgres_stops += 1


@pytest.mark.postgres
def test_postgres_down_longer_than_the_retries_sends_the_task_again(fleet_factory, fault_redis,
                                                                    own_postgres, tmp_path):
    """Two quick tries only: the outage outlasts them, the task goes back to the queue with a
    countdown past the stale-claim age, and runs again once the database is back."""
    fleet = fleet_factory(fault_redis.url, own_postgres.url,
                          **{**FAST, "visibility_timeout": 12, "db_retry_attempts": 2})
    worker, job = _stop_postgres_mid_job(fleet, own_postgres, tmp_path, count=40, seed=12)
    wait_for(lambda: "goes back to the queue" in worker.log_text(), 30,
             "the task to be sent again", interval=0.2)
    time.sleep(1)
    own_postgres.start()
    _all_done_once_by_the_same_worker(fleet, job, worker)
    REPORT.postgres_stops += 1


def test_sigterm_finishes_the_current_task_then_exits(fleet_factory, fault_redis, tmp_path):
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          **{**FAST, "task_time_limit": 30, "visibility_timeout": 60,
                             "documents_per_task": 1})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a-long.txt").write_text(prose(900_000, 1), encoding="utf-8")
    for i in range(4):
        (tmp_path / "in" / f"b-{i}.txt").write_text(prose(3_000, i + 2), encoding="utf-8")
    worker = fleet.worker("a")
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    wait_for(lambda: any(claimer_pid(by) == worker.pid for _, by in _running_claims(fleet, job)),
             30, "the long document to be claimed", interval=0.02)
    t0 = time.monotonic()
    status = worker.terminate(timeout=60)
    took = time.monotonic() - t0
    assert status == 0, worker.log_text()[-3000:]
    rows = {r["path"]: r for r in fleet.rows(job)}
    # The task it had was finished (not abandoned) before the worker exited ...
    assert rows["a-long.txt"]["status"] == "done" and rows["a-long.txt"]["attempts"] == 1
    assert rows["a-long.txt"]["results"] == 1
    assert took > 0.2, "the worker exited at once instead of finishing its task"
    # ... and what it had not started is still queued for the others, not lost.
    REPORT.sigterm_shutdowns += 1
    fleet.worker("b")
    final = fleet.wait_finished(job, timeout=60, supervise=False)
    fleet.check_exactly_once(final)
    assert all(r["status"] == "done" and r["attempts"] == 1 for r in final)


def test_poison_document_fails_after_max_attempts_and_never_loops(fleet_factory, fault_redis,
                                                                  tmp_path):
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          task_time_limit=2, visibility_timeout=5, documents_per_task=4,
                          max_attempts=3)
    (tmp_path / "in").mkdir()
    # Longer to translate than the time limit: the worker is ended each time it tries.
    (tmp_path / "in" / "b-poison.txt").write_text(prose(4_000_000, 3), encoding="utf-8")
    for name in ("a-1.txt", "c-2.txt", "d-3.txt"):
        (tmp_path / "in" / name).write_text(prose(2_000, len(name)), encoding="utf-8")
    fleet.worker("a")
    exits_before = REPORT.time_limit_exits
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    rows = {r["path"]: r for r in fleet.wait_finished(job, timeout=150)}
    poison = rows["b-poison.txt"]
    assert poison["status"] == "failed"
    assert "gave up after 3 attempts" in poison["error"] and "ran out of time" in poison["error"]
    assert poison["attempts"] == 4, poison  # three tries, then the claim that gives up
    assert REPORT.time_limit_exits - exits_before >= 3
    for name in ("a-1.txt", "c-2.txt", "d-3.txt"):
        assert rows[name]["status"] == "done", rows[name]
        assert rows[name]["attempts"] <= 2, rows[name]
    REPORT.poison_failed += 1
    # Never loops: nothing is left on the queue, and the rows stay as they are.
    client = fault_redis.client()
    queue = fleet.values["queue"]
    wait_for(lambda: client.llen(queue) == 0 and client.hlen("unacked") == 0, 20,
             "an empty queue")
    time.sleep(5)
    again = {r["path"]: r for r in fleet.rows(job)}
    assert again == rows
    assert not fleet.crashes(), fleet.crashes()
    fleet.check_exactly_once(list(again.values()))


def test_a_document_under_a_dead_workers_recent_claim_is_not_lost(fleet_factory, fault_redis,
                                                                  tmp_path):
    """A worker claims a document mid-task and dies; its message comes back while that claim is
    still younger than the stale age (claims made mid-task are younger than their message).
    The task that takes the message skips the document, and must come back for it: before the
    fix it acknowledged the message and the document stayed running for ever."""
    from sqlalchemy import update

    from braillejobs.db.models import RUNNING, Document, utcnow
    from braillejobs.db.session import session_factory

    # Claims go stale after 8 + 8 s: long enough that the claim below is still recent when a
    # worker starting on a busy machine first sees it (with 2 + 2 s it could already be stale,
    # and the worker rightly took it over at once).
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          task_time_limit=8, visibility_timeout=24, documents_per_task=3)
    write_corpus(tmp_path / "in", count=3, size=1_500, seed=21)
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    held = fleet.rows(job)[1]["id"]
    with fleet.settings():  # the dead worker's claim, made a moment ago
        with session_factory()() as session:
            session.execute(update(Document).where(Document.id == held).values(
                status=RUNNING, claim_token="f" * 32, claimed_by="gone-host:4242",
                claimed_at=utcnow(), attempts=1))
            session.commit()
    worker = fleet.worker("a")
    rows = fleet.wait_finished(job, timeout=120, supervise=False)
    assert all(r["status"] == "done" for r in rows), rows
    assert next(r for r in rows if r["id"] == held)["attempts"] == 2
    assert "looking at them again" in worker.log_text()
    fleet.check_exactly_once(rows)


def test_a_large_document_goes_alone_and_its_time_out_spares_the_small_ones(fleet_factory,
                                                                            fault_redis,
                                                                            tmp_path):
    """A document whose size predicts a long run is sent in a task of its own: when it runs out
    of time, the small documents queued beside it were never in its task, so they are done at
    their first attempt (before, all four shared one task and were all tried twice)."""
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          task_time_limit=2, visibility_timeout=5, documents_per_task=4,
                          max_attempts=2, solo_document_bytes=200_000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "b-large.txt").write_text(prose(4_000_000, 5), encoding="utf-8")
    for name in ("a-1.txt", "c-2.txt", "d-3.txt"):
        (tmp_path / "in" / name).write_text(prose(2_000, len(name)), encoding="utf-8")
    fleet.worker("a")
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    rows = {r["path"]: r for r in fleet.wait_finished(job, timeout=120)}
    assert rows["b-large.txt"]["status"] == "failed", rows["b-large.txt"]
    for name in ("a-1.txt", "c-2.txt", "d-3.txt"):
        assert rows[name]["status"] == "done" and rows[name]["attempts"] == 1, rows[name]
    fleet.check_exactly_once(list(rows.values()))
