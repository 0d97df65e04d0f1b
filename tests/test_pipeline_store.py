"""The claim -> translate -> store path on SQLite and PostgreSQL (no broker involved)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from braillejobs import formats, jobs, pipeline
from braillejobs.db import state
from braillejobs.db.models import Document, Job, Result, utcnow
from braillejobs.db.session import session_factory
from braillejobs.translate.registry import get_engine
from braillejobs.translate.louis_engine import LouisEngine
from tests.support import louis_unicode, settings

TEXTS = {
    "one.txt": "The quick brown fox.\nIt jumped over the lazy dog, twice!\n",
    "two.txt": "Braille was invented by Louis Braille in 1824.\n",
    "three.md": "# Title\n\nSome *emphasis* and a [link](http://example.org).\n",
}


@pytest.fixture
def db(db_url, tmp_path):
    with settings(database_url=db_url, data_dir=tmp_path / "data"):
        yield db_url


def write(root, texts):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        path = root / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def options(fmt="unicode", **kw):
    return jobs.JobOptions.build(format=fmt, engine="louis", **kw)


def docs_of(job_id):
    with session_factory()() as s:
        return {d.path: d for d in s.scalars(select(Document).where(Document.job_id == job_id))}


def results_of(job_id):
    with session_factory()() as s:
        rows = s.execute(select(Document.path, Result.content, Result.reused_from_id)
                         .join(Result, Result.document_id == Document.id)
                         .where(Document.job_id == job_id)).all()
        return {p: (c, r) for p, c, r in rows}


def test_process_translates_stores_and_matches_render(db, tmp_path):
    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options("brf"))
    stats = pipeline.process_documents(created.job_id, created.queued_ids)
    assert (stats.claimed, stats.done, stats.failed) == (3, 3, 0)
    assert stats.chars_by_engine["louis"] == stats.chars > 0
    engine = get_engine("louis", "en-ueb-g2.ctb")
    stored = results_of(created.job_id)
    for name, text in TEXTS.items():
        expected = formats.render(text.encode(), name, engine, formats.RenderOptions("brf"))
        assert stored[name][0] == expected.content
    docs = docs_of(created.job_id)
    assert all(d.status == "done" and d.chars_by_engine["louis"] == d.chars for d in
               docs.values() if d.chars)
    assert jobs.progress(created.job_id)["state"] == "done"


def test_one_engine_call_per_chunk(db, tmp_path, monkeypatch):
    root = write(tmp_path / "in", {f"d{i}.txt": f"Document number {i}.\nSecond line.\n"
                                   for i in range(12)})
    calls = []
    real = LouisEngine.translate_lines

    def counting(self, lines, typeforms=None):
        calls.append(len(lines))
        return real(self, lines, typeforms)

    monkeypatch.setattr(LouisEngine, "translate_lines", counting)
    created = jobs.create_job([str(root)], options())
    pipeline.process_documents(created.job_id, created.queued_ids)
    assert calls == [24]


def test_redelivery_claims_nothing_and_upsert_never_duplicates(db, tmp_path):
    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options())
    pipeline.process_documents(created.job_id, created.queued_ids)
    again = pipeline.process_documents(created.job_id, created.queued_ids)
    assert (again.claimed, again.skipped, again.done) == (0, 3, 0)
    with session_factory()() as s:
        assert s.scalar(select(func.count()).select_from(Result)
                        .where(Result.job_id == created.job_id)) == 3
        # storing the same results again (a retried store) updates in place
        rows = [{"document_id": i, "job_id": created.job_id, "source_sha256": "x",
                 "options_key": "k", "content": b"new", "extension": "txt", "engine": "louis",
                 "chars": 1, "cells": 1, "chars_by_engine": {"louis": 1}, "duration_s": 0.0,
                 "reused_from_id": None, "created_at": utcnow()} for i in created.queued_ids]
        pipeline._upsert_results(s, rows)
        pipeline._upsert_results(s, rows)
        s.commit()
        assert s.scalar(select(func.count()).select_from(Result)
                        .where(Result.job_id == created.job_id)) == 3
        assert set(s.scalars(select(Result.content).where(Result.job_id == created.job_id))) \
            == {b"new"}


def test_claim_is_compare_and_set_and_stale_claims_are_taken_over(db, tmp_path):
    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options())
    with session_factory()() as s:
        mine = pipeline._claim(s, created.job_id, created.queued_ids, "a" * 32, "w1")
        theirs = pipeline._claim(s, created.job_id, created.queued_ids, "b" * 32, "w2")
        assert len(mine) == 3 and theirs == []
        # worker w1 died long ago: its claim is older than the task time limit
        s.execute(update(Document).where(Document.job_id == created.job_id)
                  .values(claimed_at=utcnow() - timedelta(hours=5)))
        s.commit()
    stats = pipeline.process_documents(created.job_id, created.queued_ids)
    assert stats.done == 3
    assert all(d.attempts == 2 for d in docs_of(created.job_id).values())


def test_gives_up_after_max_attempts(db, tmp_path):
    root = write(tmp_path / "in", {"a.txt": "hello\n"})
    created = jobs.create_job([str(root)], options())
    with session_factory()() as s:
        s.execute(update(Document).where(Document.job_id == created.job_id)
                  .values(attempts=3))
        s.commit()
    stats = pipeline.process_documents(created.job_id, created.queued_ids)
    assert stats.failed == 1
    assert "gave up after 3 attempts" in docs_of(created.job_id)["a.txt"].error


def test_dedup_across_jobs_and_within_a_chunk(db, tmp_path):
    same = "Identical text in two files.\n"
    root = write(tmp_path / "in", {"a.txt": same, "b.txt": same, "c.txt": "Other.\n"})
    first = jobs.create_job([str(root)], options())
    s1 = pipeline.process_documents(first.job_id, first.queued_ids)
    assert (s1.done, s1.deduplicated) == (3, 1)
    second = jobs.create_job([str(root)], options())
    s2 = pipeline.process_documents(second.job_id, second.queued_ids)
    assert (s2.done, s2.deduplicated, s2.chars) == (3, 3, 0)
    r1, r2 = results_of(first.job_id), results_of(second.job_id)
    assert {k: v[0] for k, v in r1.items()} == {k: v[0] for k, v in r2.items()}
    assert all(v[1] is not None for v in r2.values())
    assert r1["a.txt"][0].decode() == louis_unicode(same)
    assert all(d.deduplicated for d in docs_of(second.job_id).values())
    # other options: no reuse
    third = jobs.create_job([str(root)], options(table="en-ueb-g1.ctb"))
    s3 = pipeline.process_documents(third.job_id, third.queued_ids)
    assert s3.deduplicated == 1 and s3.chars > 0


def test_bad_documents_fail_alone(db, tmp_path):
    root = write(tmp_path / "in", {
        "good.txt": "Good text.\n", "empty.txt": "", "binary.txt": b"\x00\x01\x02PK\x00",
        "latin.txt": "caf\xe9 cr\xe8me\n".encode("cp1252"),
        "garbled.txt": b"abc \x81\x8d\x90 text\n",
        "big.txt": "x" * 5000})
    with settings(database_url=db, max_document_bytes=4000):
        created = jobs.create_job([str(root), str(tmp_path / "missing.txt")], options())
        pipeline.process_documents(created.job_id, created.queued_ids)
        docs = docs_of(created.job_id)
    assert {p: d.status for p, d in docs.items()} == {
        "good.txt": "done", "empty.txt": "done", "binary.txt": "failed", "latin.txt": "done",
        "big.txt": "failed", "missing.txt": "failed", "garbled.txt": "failed"}
    assert "garbled.txt" in docs["garbled.txt"].error and "UTF-8" in docs["garbled.txt"].error
    assert "binary.txt" in docs["binary.txt"].error and "\n" not in docs["binary.txt"].error
    assert "over the limit" in docs["big.txt"].error
    assert "no such file" in docs["missing.txt"].error
    assert docs["latin.txt"].warnings and "cp1252" in docs["latin.txt"].warnings[0]
    assert results_of(created.job_id)["empty.txt"][0] == b""
    info = jobs.progress(created.job_id)
    assert (info["state"], info["done"], info["failed"]) == ("failed", 3, 4)


def test_unusable_engine_fails_documents_not_the_job(db, tmp_path):
    root = write(tmp_path / "in", {"a.txt": "hello\n"})
    opts = jobs.JobOptions.build(format="unicode", engine="cnn")
    with settings(database_url=db, model_dir=str(tmp_path / "no-models")):
        created = jobs.create_job([str(root)], opts)
        stats = pipeline.process_documents(created.job_id, created.queued_ids)
    if stats.done:  # a cnn model is installed here after all
        return
    assert stats.failed == 1
    assert "a.txt" in docs_of(created.job_id)["a.txt"].error


def test_cancel_and_retry_embedded(db, tmp_path):
    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options(), mode="embedded")
    assert jobs.cancel(created.job_id[:8]).documents == 3
    assert jobs.progress(created.job_id)["state"] == "cancelled"
    assert pipeline.process_documents(created.job_id, created.queued_ids).claimed == 0
    job_id, n = jobs.retry(created.job_id)
    assert n == 3
    info = jobs.progress(job_id)
    assert (info["state"], info["done"]) == ("done", 3)
    with pytest.raises(jobs.JobError, match="already finished"):
        jobs.cancel(job_id)
    with pytest.raises(jobs.JobError, match="no job"):
        jobs.progress("ffffffffffff")


def test_fetch_writes_safe_names(db, tmp_path):
    root = write(tmp_path / "in", {"x.txt": "x\n"})
    (root / "sub").mkdir()
    (root / "sub" / "y.md").write_text("y\n")
    created = jobs.create_job([str(root)], options("brf"))
    pipeline.process_documents(created.job_id, created.queued_ids)
    with session_factory()() as s:  # a hostile stored name stays inside OUTDIR
        s.execute(update(Document).where(Document.path == "x.txt",
                                         Document.job_id == created.job_id)
                  .values(output_path="../../escape"))
        s.commit()
    out = tmp_path / "out"
    fetched = jobs.fetch(created.job_id, out)
    names = sorted(p.relative_to(out).as_posix() for p in fetched.written)
    assert names == ["escape.brf", "sub/y.brf"]
    assert not (tmp_path / "escape.brf").exists()


def test_retry_takes_back_documents_of_a_dead_claimer(db, tmp_path):
    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options(), mode="embedded")
    with session_factory()() as s:  # an interrupted convert: claimed by a process now gone
        pipeline._claim(s, created.job_id, created.queued_ids, "c" * 32,
                        f"{pipeline.socket.gethostname()}:999999999")
    assert jobs.progress(created.job_id)["running"] == 3
    job_id, n = jobs.retry(created.job_id)
    assert n == 3 and jobs.progress(job_id)["done"] == 3


def test_parallel_finishes_of_the_last_documents_leave_the_job_finished(db, tmp_path):
    """Two workers store the last documents of a job at the same moment. Each transaction
    counts the documents after writing its own: without the lock on the job row, each sees the
    other's documents still running, both write `running`, and the job never finishes."""
    import threading

    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options())
    first, *rest = sorted(created.queued_ids)
    factory = session_factory()
    with factory() as s:
        assert len(pipeline._claim(s, created.job_id, created.queued_ids, "a" * 32, "w1")) == 3
        s.commit()

    def finish(session, ids):
        session.execute(update(Document).where(Document.id.in_(ids))
                        .values(status="done", finished_at=utcnow())
                        .execution_options(synchronize_session=False))
        return state.refresh_job(session, created.job_id)

    a = factory()
    try:
        assert finish(a, rest) == "running"       # the first document is still running
        seen = {}

        def other():
            with factory() as b:
                seen["state"] = finish(b, [first])
                b.commit()

        t = threading.Thread(target=other)
        t.start()
        t.join(1.0)                     # it waits for the job row (or, on SQLite, the database)
        assert t.is_alive()
        a.commit()
    finally:
        a.close()
    t.join(30)
    assert seen["state"] == "done"
    assert jobs.progress(created.job_id)["state"] == "done"


def test_progress_reads_the_state_that_came_with_its_counts(db, tmp_path):
    """A worker's last store commits the documents and the job's state together. `progress`
    read the job row first and the counts after: a commit landing between the two gave all
    documents finished with the job still `running` (`submit --wait` then reported it)."""
    from sqlalchemy import event

    from braillejobs.db.session import get_engine

    root = write(tmp_path / "in", TEXTS)
    created = jobs.create_job([str(root)], options())
    factory = session_factory()
    with factory() as s:
        pipeline._claim(s, created.job_id, created.queued_ids, "a" * 32, "w1")
        s.commit()
    done = []

    def store_lands_now(conn, _cursor, statement, *_args):
        # right after progress has read the job row, a store finishes every document
        if done or "FROM jobs" not in statement or "FOR UPDATE" in statement:
            return
        done.append(True)
        with factory() as other:
            other.execute(update(Document).where(Document.job_id == created.job_id)
                          .values(status="done", finished_at=utcnow())
                          .execution_options(synchronize_session=False))
            state.refresh_job(other, created.job_id)
            other.commit()

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", store_lands_now)
    try:
        info = jobs.progress(created.job_id)
    finally:
        event.remove(engine, "after_cursor_execute", store_lands_now)
    assert done and info["running"] == 0 and info["done"] == 3
    assert info["state"] == "done"


def test_chunks_put_a_large_document_alone_and_bound_the_bytes_of_a_task():
    from braillejobs import jobs

    with settings(solo_document_bytes="1000", documents_per_task="3"):
        sizes = {1: 10, 2: 5000, 3: 10, 4: 10, 5: 10, 6: 600, 7: 600, 8: 10}
        assert jobs.chunks(list(sizes), sizes=sizes) == [[1], [2], [3, 4, 5], [6], [7, 8]]
        assert jobs.chunks([1, 2, 3, 4]) == [[1, 2, 3], [4]]  # sizes unknown: by count


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_column_limits_are_checked_before_the_database_sees_them(store, tmp_path, request):
    """PostgreSQL refuses a value longer than its column (SQLite does not): a job name over the
    limit is a clear error before anything is recorded, and a document whose path is too long
    fails alone while the documents beside it are converted."""
    url = request.getfixturevalue("pg_url") if store == "postgres" else \
        f"sqlite:///{tmp_path / 'bj.db'}"
    from braillejobs.jobs import JobError

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "short.txt").write_text("A short one.")
    deep = tmp_path / "in"
    while len(str(deep.relative_to(tmp_path / "in"))) < 1500:
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    (deep / "long.txt").write_text("A long path.")
    options = jobs.JobOptions.build(format="brf", engine="louis")
    with settings(database_url=url):
        with pytest.raises(JobError, match="the job name is 250 characters; the limit is 200"):
            jobs.create_job([str(tmp_path / "in")], options, name="n" * 250, mode="embedded")
        result = jobs.convert([str(tmp_path / "in")], tmp_path / "out", options)
        with session_factory()() as session:
            rows = {d.path[-9:]: d for d in session.scalars(
                select(Document).where(Document.job_id == result.job_id))}
    assert rows["short.txt"].status == "done"
    assert rows["/long.txt"].status == "failed" and len(rows["/long.txt"].path) == 1024
    assert "over the limit of 1,024" in rows["/long.txt"].error


@pytest.mark.postgres
def test_cancel_and_retry_while_workers_store_never_deadlock(pg_url, tmp_path):
    """Two workers claiming and storing chunks of one job (in opposite orders) while the
    operator cancels and retries it: every transaction takes the job's row first, so none
    deadlocks (before, cancel and retry raised DeadlockDetected and the workers logged it as
    'database unreachable'); at the end every document is done exactly once."""
    import threading

    from braillejobs.jobs import JobError

    root = write(tmp_path / "in", {f"d{i:03d}.txt": f"Document {i}, short.\n" for i in range(160)})
    failures: list[BaseException] = []
    with settings(database_url=pg_url, dedup="no"):
        created = jobs.create_job([str(root)], options("brf"), mode="embedded")
        chunks = jobs.chunks(created.queued_ids, size=8)

        def work(order):
            for c in order:
                try:
                    pipeline.process_documents(created.job_id, c)
                except BaseException as exc:  # noqa: BLE001 - collected for the assert
                    failures.append(exc)

        threads = [threading.Thread(target=work, args=(chunks,)),
                   threading.Thread(target=work, args=(list(reversed(chunks)),))]
        for t in threads:
            t.start()
        for _ in range(10):
            for action in (lambda: jobs.cancel(created.job_id),
                           lambda: jobs.retry(created.job_id)):
                try:
                    action()
                except JobError:
                    pass  # "already finished": a clear answer, not a failure
                except BaseException as exc:  # noqa: BLE001
                    failures.append(exc)
        for t in threads:
            t.join(120)
        jobs.retry(created.job_id)  # whatever the cancels left queued
        docs = docs_of(created.job_id)
        with session_factory()() as s:
            per_doc = dict(s.execute(select(Result.document_id, func.count())
                                     .where(Result.job_id == created.job_id)
                                     .group_by(Result.document_id)).all())
    assert not failures, [repr(f) for f in failures[:3]]
    assert {d.status for d in docs.values()} == {"done"}
    assert all(per_doc.get(d.id) == 1 for d in docs.values())
