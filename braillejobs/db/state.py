"""A job's state and the rules of claims, in one place for the pipeline, jobs and operators.

* :func:`stale_claim_seconds`, :func:`stale_before`, :func:`claimable`: when a ``running``
  document's claim is old enough to be taken over: longer than the task time limit (its task
  cannot still be running) and shorter than the visibility timeout (so that the message Redis
  redelivers after a worker died finds the claim stale and takes it, instead of skipping a
  document nobody would ever finish).
* :func:`lock_job`: the one lock order (the job's row, then its documents).
* :func:`refresh_job`, :func:`document_counts`: a job's state from its documents' statuses.
* :func:`unfinished_jobs`, :func:`finished_since`, :func:`totals`, :func:`oldest_queued`,
  :func:`submitted_by_mode`, :func:`recent_failures`, :func:`database_size`: what operators
  see (`braillejobs top`, the exporter and its status page).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from .. import config
from .models import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Document, Job, aware, utcnow


def stale_claim_seconds(time_limit: int | None = None, visibility: int | None = None) -> float:
    """Age after which a ``running`` claim is taken over by a new claimer."""
    limit = config.get("task_time_limit") if time_limit is None else time_limit
    vis = config.get("visibility_timeout") if visibility is None else visibility
    # A margin for clocks of different hosts: up to 60 s, never past the visibility timeout.
    margin = max(0.0, min(60.0, (vis - limit) / 2))
    return limit + margin


def stale_before(now: datetime | None = None) -> datetime:
    """Claims made before this time are stale."""
    return (now or utcnow()) - timedelta(seconds=stale_claim_seconds())


def claimable(now: datetime | None = None):
    """Documents a new claim may take: queued ones, and running ones whose claim is stale."""
    return or_(Document.status == QUEUED,
               and_(Document.status == RUNNING, Document.claimed_at < stale_before(now)))


def lock_job(session: Session, job_id: str) -> None:
    """Lock the job's row for this transaction (``FOR UPDATE``; SQLite serialises writers).

    The one lock order of the project: every transaction that writes a job's documents takes
    the job's row first, then the documents. Claims, stores, cancel and retry of one job then
    wait for each other instead of locking the same documents in different orders (two
    multi-row UPDATEs over the same rows, one by id and one by status, deadlock otherwise)."""
    session.execute(select(Job.id).where(Job.id == job_id).with_for_update())


def refresh_job(session: Session, job_id: str) -> str:
    """Recompute a job's state from its documents' statuses; returns it.

    The job's row is locked first (``FOR UPDATE``; SQLite serialises writers anyway), so two
    workers finishing the last documents of a job in parallel cannot each count the other's
    documents as still running and leave the job ``running`` for ever: the second waits for
    the first to commit, and under read committed its count then sees those documents."""
    lock_job(session, job_id)
    counts = document_counts(session, job_id)
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        return ""
    now = utcnow()
    state = job.status
    if job.status != CANCELLED:
        if counts[QUEUED] + counts[RUNNING] == 0:
            state = FAILED if counts[FAILED] or counts[CANCELLED] else DONE
        elif counts[RUNNING] or counts[DONE] or counts[FAILED]:
            state = RUNNING
        else:
            state = QUEUED
    elif counts[RUNNING] == 0 and job.finished_at is None:
        job.finished_at = now
    if state != job.status:
        job.status = state
        job.finished_at = now if state in (DONE, FAILED) else None
    job.updated_at = now
    return state


def document_counts(session: Session, job_id: str) -> Counter:
    rows = session.execute(select(Document.status, func.count())
                           .where(Document.job_id == job_id).group_by(Document.status))
    counts: Counter = Counter({s: 0 for s in (QUEUED, RUNNING, DONE, FAILED, CANCELLED)})
    counts.update({status: n for status, n in rows})
    return counts


# --- what operators see (``braillejobs top``, the exporter) ------------------------------------

def unfinished_jobs(session: Session, limit: int) -> list[dict]:
    """The oldest queued or running jobs, with their documents done, failed and running."""
    jobs = session.execute(
        select(Job.id, Job.name, Job.status, Job.documents_total, Job.created_at, Job.options)
        .where(Job.status.in_([QUEUED, RUNNING])).order_by(Job.created_at).limit(limit)).all()
    counts: dict[str, dict[str, int]] = {}
    if jobs:
        rows = session.execute(
            select(Document.job_id,
                   func.sum(case((Document.status == DONE, 1), else_=0)),
                   func.sum(case((Document.status == FAILED, 1), else_=0)),
                   func.sum(case((Document.status == RUNNING, 1), else_=0)))
            .where(Document.job_id.in_([j.id for j in jobs])).group_by(Document.job_id))
        counts = {r[0]: {"done": int(r[1] or 0), "failed": int(r[2] or 0),
                         "running": int(r[3] or 0)} for r in rows}
    return [{"id": j.id, "name": j.name or "", "state": j.status, "total": j.documents_total,
             **counts.get(j.id, {"done": 0, "failed": 0, "running": 0}),
             "engine": (j.options or {}).get("engine", ""), "created_at": aware(j.created_at)}
            for j in jobs]


def finished_since(session: Session, since: datetime) -> tuple[int, int]:
    """Documents done since ``since``, and their characters."""
    documents, chars = session.execute(
        select(func.count(), func.coalesce(func.sum(Document.chars), 0))
        .where(Document.status == DONE, Document.finished_at >= since)).one()
    return int(documents), int(chars)


def totals(session: Session) -> tuple[dict[str, int], dict[str, int], datetime | None]:
    """Jobs by state, documents by status, and the last update of the least recently updated
    unfinished job (None when every job is finished)."""
    jobs = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    documents = dict(session.execute(select(Document.status, func.count())
                                     .group_by(Document.status)).all())
    oldest = session.execute(select(func.min(Job.updated_at))
                             .where(Job.status.in_([QUEUED, RUNNING]))).scalar()
    if isinstance(oldest, str):  # SQLite returns an aggregate's time as text
        oldest = datetime.fromisoformat(oldest)
    return jobs, documents, aware(oldest) if oldest is not None else None


def _when(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns an aggregate's time as text
        value = datetime.fromisoformat(value)
    return aware(value)


def oldest_queued(session: Session) -> datetime | None:
    """When the oldest document still queued was submitted (None when none is). Only the
    unfinished jobs' documents are looked at (indexed: jobs by state, documents by job)."""
    return _when(session.execute(
        select(func.min(Document.created_at)).join(Job, Job.id == Document.job_id)
        .where(Job.status.in_([QUEUED, RUNNING]), Document.status == QUEUED)).scalar())


def submitted_by_mode(session: Session) -> dict[str, int]:
    """Documents recorded, by the mode of their job (queued, embedded)."""
    rows = session.execute(select(Job.mode, func.count(Document.id))
                           .join(Document, Document.job_id == Job.id).group_by(Job.mode))
    return {mode: int(n) for mode, n in rows}


def recent_failures(session: Session, limit: int) -> list[dict]:
    """The documents that failed last, newest first: their job, path, error and time."""
    rows = session.execute(
        select(Document.job_id, Job.name, Document.path, Document.error, Document.finished_at)
        .join(Job, Job.id == Document.job_id).where(Document.status == FAILED)
        .order_by(Document.finished_at.desc(), Document.id.desc()).limit(limit)).all()
    return [{"job_id": r[0], "job_name": r[1] or "", "path": r[2], "error": r[3] or "",
             "finished_at": _when(r[4])} for r in rows]


def database_size(session: Session) -> int:
    """Bytes the database takes on disk: PostgreSQL's pg_database_size, or the SQLite file with
    its write-ahead log (0 for an in-memory database)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return int(session.execute(text("SELECT pg_database_size(current_database())")).scalar())
    if bind.dialect.name == "sqlite":
        name = bind.url.database
        if not name or name == ":memory:":
            return 0
        path = Path(name).expanduser()
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    raise ValueError(f"no size for a {bind.dialect.name} database")
