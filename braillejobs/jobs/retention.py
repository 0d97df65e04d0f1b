"""Retention: delete finished jobs, with their sources and braille, after a number of days.

Sources and results live in the database (so that workers on other hosts need no shared disk);
without a purge they stay there for ever. :func:`plan` says what a purge would delete (a dry
run, the default of ``braillejobs purge``); :func:`purge` deletes it in small transactions (a
job, its documents and results go together, by the foreign keys' cascade), so a purge of years
of jobs never holds a long lock and an interruption loses nothing but time. Unfinished jobs
(queued, running) are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import delete, func, select

from ..db.models import CANCELLED, DONE, FAILED, Document, Job, Result, utcnow
from ..db.session import session_factory
from ..resilience import retry_db
from .options import JobError

FINISHED = (DONE, FAILED, CANCELLED)
BATCH = 100          # jobs a transaction


@dataclass
class Plan:
    before: datetime          # jobs that finished before this are deleted
    states: tuple[str, ...]
    jobs: int
    documents: int
    source_bytes: int
    result_bytes: int

    def as_dict(self) -> dict:
        return {"finished_before": self.before.isoformat(), "states": list(self.states),
                "jobs": self.jobs, "documents": self.documents,
                "source_bytes": self.source_bytes, "result_bytes": self.result_bytes}


def check(days: float, states: Sequence[str]) -> tuple[str, ...]:
    if days <= 0:
        raise JobError(f"--older-than {days:g}: give a number of days above 0")
    bad = [s for s in states if s not in FINISHED]
    if bad:
        raise JobError(f"cannot purge jobs in state {', '.join(bad)}: only finished jobs "
                       f"({', '.join(FINISHED)}) are purged; cancel a job first")
    return tuple(dict.fromkeys(states or FINISHED))


def _finished(states: tuple[str, ...], before: datetime):
    ended = func.coalesce(Job.finished_at, Job.updated_at)
    return (Job.status.in_(states)) & (ended < before)


def plan(days: float, states: Sequence[str] = (), url: str | None = None,
         now: datetime | None = None) -> Plan:
    """What a purge of the jobs finished more than ``days`` ago would delete."""
    chosen = check(days, states)
    before = (now or utcnow()) - timedelta(days=days)

    def count() -> Plan:
        with session_factory(url)() as session:
            jobs = select(Job.id).where(_finished(chosen, before))
            n_jobs = session.scalar(select(func.count()).select_from(jobs.subquery())) or 0
            docs, source = session.execute(
                select(func.count(Document.id), func.coalesce(func.sum(Document.size), 0))
                .where(Document.job_id.in_(jobs))).one()
            result = session.scalar(
                select(func.coalesce(func.sum(func.length(Result.content)), 0))
                .where(Result.job_id.in_(jobs))) or 0
        return Plan(before, chosen, int(n_jobs), int(docs or 0), int(source or 0), int(result))

    return retry_db(count, "read the jobs to purge")


def purge(days: float, states: Sequence[str] = (), url: str | None = None,
          now: datetime | None = None,
          progress: Callable[[int, int], None] | None = None) -> Plan:
    """Delete the jobs finished more than ``days`` ago (with their documents and results);
    returns what was deleted. ``progress(done, total)`` is told after every batch."""
    todo = plan(days, states, url, now)
    chosen, before = todo.states, todo.before
    deleted = 0

    def batch() -> list[str]:
        with session_factory(url)() as session:
            ids = list(session.scalars(select(Job.id).where(_finished(chosen, before))
                                       .order_by(Job.id).limit(BATCH)))
            if ids:
                # results and documents first: no reliance on the database's cascade
                session.execute(delete(Result).where(Result.job_id.in_(ids)))
                session.execute(delete(Document).where(Document.job_id.in_(ids)))
                session.execute(delete(Job).where(Job.id.in_(ids)))
                session.commit()
            return ids

    while True:
        ids = retry_db(batch, "purge old jobs")
        if not ids:
            break
        deleted += len(ids)
        if progress:
            progress(min(deleted, todo.jobs), todo.jobs)
    todo.jobs = deleted
    return todo
