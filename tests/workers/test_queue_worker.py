"""The queued path with a real Redis and real `braillejobs worker` processes."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from braillejobs import formats, jobs, queue
from braillejobs.cli import main
from braillejobs.db.models import Document, Result
from braillejobs.db.session import session_factory
from braillejobs.translate.louis_engine import LouisEngine
from tests.support import Worker, cli_path, env_for, louis_blocks, settings, unique

WORDS = ("reading braille opens doors for children and adults alike; the library lends "
         "books, magazines and music scores to readers across the country every week").split()


def paragraphs(i: int) -> list[str]:
    first = f"Document {i}: " + " ".join(WORDS[i % 7:i % 7 + 12]).capitalize() + "."
    second = "The " + " ".join(WORDS[(i * 3) % 11:(i * 3) % 11 + 9]) + f", {i * 17} times."
    return [first, second]


def test_celery_configuration():
    with settings(queue="q-test", task_time_limit="100", visibility_timeout="500"):
        app = queue.make_app()
    c = app.conf
    assert c.task_serializer == "json" and c.accept_content == ["json"]
    assert c.task_acks_late and c.task_reject_on_worker_lost
    assert c.worker_prefetch_multiplier == 1
    assert c.broker_transport_options["visibility_timeout"] == 500 > c.task_time_limit == 100
    assert c.task_routes[queue.TRANSLATE_DOCUMENTS]["queue"] == "q-test"
    assert queue.PRIORITIES["high"] < queue.PRIORITIES["normal"] < queue.PRIORITIES["low"]


def test_worker_refuses_visibility_timeout_not_longer_than_time_limit(env):
    proc = subprocess.run([cli_path(), "worker"], capture_output=True, text=True, timeout=120,
                          env=env_for(**env, task_time_limit="600", visibility_timeout="600"))
    assert proc.returncode == 1
    assert "BRAILLEJOBS_VISIBILITY_TIMEOUT=600 must be longer than " \
           "BRAILLEJOBS_TASK_TIME_LIMIT=600" in proc.stderr


def test_submit_without_broker_is_a_clear_error(env, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    with settings(broker_url="redis://127.0.0.1:1/0"):
        res = CliRunner().invoke(main, ["submit", str(tmp_path / "a.txt")])
    assert res.exit_code == 1 and "cannot reach the broker redis://127.0.0.1:1/0" in res.output


def test_submit_200_files_wait_fetch_identical_to_liblouis(live, tmp_path):
    src = tmp_path / "docs"
    src.mkdir()
    texts = {}
    for i in range(200):
        texts[f"doc{i:03d}.txt"] = paragraphs(i)
        (src / f"doc{i:03d}.txt").write_text("\n\n".join(paragraphs(i)) + "\n")
    env = env_for(**live)
    proc = subprocess.run([cli_path(), "submit", str(src), "--wait", "--format", "unicode",
                           "--name", "two hundred", "--timeout", "240"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip().splitlines()[-1]
    assert "200 done" in proc.stderr
    with settings(**live):
        with session_factory()() as s:
            statuses = dict(s.execute(select(Document.status, func.count())
                                      .where(Document.job_id == job_id)
                                      .group_by(Document.status)).all())
            assert statuses == {"done": 200}
            assert s.scalar(select(func.count()).select_from(Result)
                            .where(Result.job_id == job_id)) == 200
    out = tmp_path / "out"
    fetched = subprocess.run([cli_path(), "fetch", job_id[:10], "-o", str(out)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    files = sorted(out.iterdir())
    assert len(files) == 200
    engine = LouisEngine("en-ueb-g2.ctb")
    for name, paras in texts.items():
        got = (out / name).read_text(encoding="utf-8")
        assert got == louis_blocks(paras), name
        data = (src / name).read_bytes()
        assert got.encode() == formats.render(data, name, engine,
                                              formats.RenderOptions("unicode")).content
    status = subprocess.run([cli_path(), "status", job_id, "--json"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert '"done": 200' in status.stdout and '"state": "done"' in status.stdout


def test_postgres_worker_dedup_redelivery_and_bad_input(live_pg, tmp_path):
    src = tmp_path / "docs"
    src.mkdir()
    for i in range(20):
        (src / f"d{i:02d}.md").write_text(f"# Part {i}\n\nText of part {i % 10}.\n")
    (src / "broken.txt").write_bytes(b"\x00\x01binary")
    with settings(**live_pg):
        opts = jobs.JobOptions.build(format="brf", engine="louis")
        created = jobs.submit([str(src)], opts, name="pg", priority="high")
        info = jobs.wait(created.job_id, timeout=120)
        assert (info["done"], info["failed"], info["state"]) == (20, 1, "failed")
        assert "broken.txt" in jobs.errors(created.job_id)[0]
        # the same messages again: nothing is claimed twice, no result duplicated
        queue.send_chunks(created.job_id, created.chunks(), "normal")
        time.sleep(1.5)
        again = jobs.submit([str(src)], opts)
        info2 = jobs.wait(again.job_id, timeout=120)
        assert (info2["done"], info2["deduplicated"]) == (20, 20)
        with session_factory()() as s:
            per_doc = s.execute(select(Result.document_id, func.count())
                                .where(Result.job_id == created.job_id)
                                .group_by(Result.document_id)).all()
            assert len(per_doc) == 20 and all(n == 1 for _, n in per_doc)
            attempts = set(s.scalars(select(Document.attempts)
                                     .where(Document.job_id == created.job_id,
                                            Document.status == "done")))
            assert attempts == {1}


def test_cancel_retry_and_priorities(redis_url, tmp_path):
    """Jobs queued while no worker listens: cancel one, then a worker takes high before low."""
    broker, prefix = redis_url
    values = {"database_url": f"sqlite:///{tmp_path / 'bj.db'}", "broker_url": broker,
              "queue": unique(prefix + "-prio"), "documents_per_task": "1",
              "wait_poll_seconds": "0.1"}
    src = tmp_path / "docs"
    src.mkdir()
    for i in range(6):
        (src / f"p{i}.txt").write_text(f"Priority document {i}.\n")
    with settings(**values):
        opts = jobs.JobOptions.build(format="unicode", engine="louis")
        low = jobs.submit([str(src)], opts, priority="low").job_id
        doomed = jobs.submit([str(src)], opts, priority="normal").job_id
        high = jobs.submit([str(src)], opts, priority="high").job_id
        runner = CliRunner()
        res = runner.invoke(main, ["cancel", doomed])
        assert res.exit_code == 0 and "cancelled 6" in res.output
        listing = runner.invoke(main, ["jobs", "--state", "cancelled"])
        assert doomed in listing.output
        worker = Worker(tmp_path / "worker.log", **values, dedup="false").start()
        try:
            jobs.wait(high, timeout=120)
            jobs.wait(low, timeout=120)
            res = runner.invoke(main, ["retry", doomed])
            assert res.exit_code == 0 and "requeued 6" in res.output
            assert jobs.wait(doomed, timeout=120)["done"] == 6
        finally:
            worker.stop()
        with session_factory()() as s:
            def finish_times(job_id):
                return sorted(s.scalars(select(Document.finished_at)
                                        .where(Document.job_id == job_id)))
            assert max(finish_times(high)) <= min(finish_times(low))
        assert jobs.progress(doomed)["state"] == "done"
        status = runner.invoke(main, ["status"])
        assert status.exit_code == 0


@pytest.mark.parametrize("fmt", ["brf", "pef"])
def test_fixture_documents_through_a_worker_match_embedded_mode(live, tmp_path, fmt):
    """The formats fixtures (docx, epub, html, md, cp1252 txt) laid out by a real worker give
    the same files as rendering them here, and every PEF passes the schema."""
    from braillejobs.formats.pef import validate_pef

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    docs = sorted(p for p in fixtures.iterdir() if p.suffix in {".docx", ".epub", ".html",
                                                                 ".md", ".txt"})
    assert len(docs) >= 5
    env = env_for(**live)
    proc = subprocess.run([cli_path(), "submit", *map(str, docs), "--wait", "--format", fmt,
                           "--timeout", "240"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip().splitlines()[-1]
    out = tmp_path / "out"
    fetched = subprocess.run([cli_path(), "fetch", job_id, "-o", str(out)], capture_output=True,
                             text=True, env=env, timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    engine = LouisEngine("en-ueb-g2.ctb")
    for doc in docs:
        got = (out / f"{doc.stem}.{fmt}").read_bytes()
        expected = formats.render(doc.read_bytes(), doc.name, engine,
                                  formats.RenderOptions(fmt)).content
        if fmt == "pef":
            assert validate_pef(got) == [], doc.name
            # the date is the day each was written; everything else must be the same
            got, expected = _without_date(got), _without_date(expected)
        assert got == expected, doc.name


def _without_date(pef: bytes) -> bytes:
    return re.sub(rb"<dc:date>[^<]*</dc:date>", b"", pef)
