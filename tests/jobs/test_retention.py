"""Retention: `braillejobs purge` deletes finished jobs older than the given days with their
documents and results (a dry run unless --yes), never unfinished ones, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from braillejobs.cli import main
from braillejobs.db.models import Document, Job, Result, utcnow
from braillejobs.db.session import ensure_schema, session_factory
from braillejobs.jobs import JobOptions, convert, create_job
from tests.support import settings


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, env, tmp_path):
    url = env["database_url"] if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with settings(database_url=url):
        ensure_schema()
        yield url


def _docs(tmp_path, name: str, texts: list[str]):
    folder = tmp_path / name
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"d{i}.txt").write_text(text, encoding="utf-8")
    return folder


def _age(job_id: str, days: float) -> None:
    when = utcnow() - timedelta(days=days)
    with session_factory()() as s:
        s.execute(update(Job).where(Job.id == job_id).values(finished_at=when, updated_at=when))
        s.commit()


def _count(model, job_id: str) -> int:
    with session_factory()() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.job_id == job_id))


def test_purge_deletes_only_old_finished_jobs(database, tmp_path):
    options = JobOptions.build(format="brf", engine="louis")
    old = convert([str(_docs(tmp_path, "old", ["An old job.", "Its second document."]))],
                  tmp_path / "o1", options).job_id
    # the same text again: its result is a copy of the old one's (dedup), and must survive
    recent = convert([str(_docs(tmp_path, "recent", ["An old job."]))], tmp_path / "o2",
                     options).job_id
    waiting = create_job([str(_docs(tmp_path, "waiting", ["Never run."]))], options,
                         mode="queued").job_id
    _age(old, 40)
    _age(waiting, 400)          # unfinished: never purged, however old
    with session_factory()() as s:
        copy = s.scalar(select(Result.reused_from_id).where(Result.job_id == recent))
    assert copy is not None

    runner = CliRunner()
    dry = runner.invoke(main, ["purge", "--older-than", "30", "--json"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["deleted"] is False and plan["jobs"] == 1 and plan["documents"] == 2
    assert plan["source_bytes"] > 0 and plan["result_bytes"] > 0
    assert _count(Document, old) == 2                    # a dry run deletes nothing

    done = runner.invoke(main, ["purge", "--older-than", "30", "--yes"])
    assert done.exit_code == 0, done.output
    assert "deleted 1 jobs finished before" in done.stderr
    assert _count(Document, old) == 0 and _count(Result, old) == 0
    with session_factory()() as s:
        assert s.get(Job, old) is None
        assert s.get(Job, waiting) is not None and s.get(Job, recent) is not None
        kept = s.execute(select(Result.reused_from_id, func.length(Result.content))
                         .where(Result.job_id == recent)).one()
    assert kept[0] is None and kept[1] > 0               # the copy keeps its braille
    again = runner.invoke(main, ["purge", "--older-than", "30", "--yes", "--json"])
    assert json.loads(again.stdout)["jobs"] == 0


def test_purge_by_state_and_from_the_setting(database, tmp_path):
    options = JobOptions.build(format="unicode", engine="louis")
    a = convert([str(_docs(tmp_path, "a", ["Done and old."]))], tmp_path / "oa", options).job_id
    _age(a, 10)
    runner = CliRunner()
    only_failed = runner.invoke(main, ["purge", "--older-than", "5", "--state", "failed",
                                       "--yes", "--json"])
    assert json.loads(only_failed.stdout)["jobs"] == 0
    with settings(retention_days="7"):
        result = runner.invoke(main, ["purge", "--yes", "--json"])
    assert json.loads(result.stdout)["jobs"] == 1


def test_purge_says_what_it_needs(env):
    runner = CliRunner()
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 2 and "--older-than" in result.output
    assert "BRAILLEJOBS_RETENTION_DAYS" in result.output
    result = runner.invoke(main, ["purge", "--older-than", "3", "--every", "600"])
    assert result.exit_code == 2 and "add --yes" in result.output
    result = runner.invoke(main, ["purge", "--older-than", "-1"])
    assert result.exit_code == 1 and "above 0" in result.output
