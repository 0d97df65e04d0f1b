"""The job lifecycle on the database: create, submit, convert, status, cancel, retry, fetch.

``submit`` records a job and its documents and queues one task per chunk of documents for the
worker fleet; ``convert`` records the same job and runs the same pipeline in this process. Both
read the input files here, once: the documents' bytes travel in the database, so a worker on
another host needs no shared disk, and so do the results that ``fetch`` writes out.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timezone
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import config, metrics
from ..db.models import (CANCELLED, DONE, FAILED, JOB_STATES, PRIORITIES, QUEUED, RUNNING,
                         Document, Job, Result, aware, utcnow)
from ..db.session import session_factory
from ..db.state import document_counts, lock_job, refresh_job, stale_before
from ..pipeline import Stats, process_documents
from ..resilience import retry_db
from ..safepaths import UnsafePath, write_inside
from . import inputs
from .options import JobError, JobOptions


@dataclass
class Created:
    job_id: str
    queued_ids: list[int]
    errors: list[str] = field(default_factory=list)
    total: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # queued id -> source bytes
    queue: str | None = None                             # where its tasks went (submit)
    warnings: list[str] = field(default_factory=list)    # about that queue

    def chunks(self) -> list[list[int]]:
        return chunks(self.queued_ids, sizes=self.sizes)


def _new_job_id() -> str:
    return uuid.uuid4().hex


def create_job(paths: Sequence[str], options: JobOptions, *, name: str | None = None,
               priority: str = "normal", mode: str = "queued", url: str | None = None
               ) -> Created:
    """Record a job with one document per input file; bad inputs are recorded as failed."""
    if priority not in PRIORITIES:
        raise JobError(f"unknown priority {priority!r}: choose one of {', '.join(PRIORITIES)}")
    if name is not None and len(name) > _column_length(Job.name):
        raise JobError(f"the job name is {len(name):,} characters; the limit is "
                       f"{_column_length(Job.name)}: give a shorter --name")
    found = inputs.expand(paths)
    limit = config.get("max_documents_per_job")
    if len(found) > limit:
        raise JobError(f"{len(found)} documents is more than one job may hold ({limit}, "
                       f"{config.setting('max_documents_per_job').env_var}); split the input")
    max_bytes = config.get("max_document_bytes")
    bases = inputs.output_bases([f.rel for f in found])
    factory = session_factory(url)
    now = utcnow()
    job_id = _new_job_id()
    created = Created(job_id, [], total=len(found))
    with factory() as session:
        session.add(Job(id=job_id, name=name, mode=mode, status=QUEUED, priority=priority,
                        options=asdict(options), options_key=options.key(),
                        documents_total=len(found), created_at=now, updated_at=now))
        session.flush()
        pending: list[Document] = []
        pending_bytes = 0
        for seq, (item, base) in enumerate(zip(found, bases)):
            doc = Document(job_id=job_id, seq=seq, path=item.rel, source_path=item.source,
                           output_path=base, status=QUEUED, size=0, attempts=0,
                           deduplicated=False, created_at=now)
            error = item.error or _fit_columns(doc)
            data = None
            if error is None:
                data, error = _read_input(item, max_bytes)
            if error is not None:
                doc.status, doc.error, doc.finished_at = FAILED, error, now
                created.errors.append(error)
            else:
                doc.size = len(data)
                doc.sha256 = hashlib.sha256(data).hexdigest()
                doc.source = data
                pending_bytes += len(data)
            pending.append(doc)
            if len(pending) >= 500 or pending_bytes > 32 * 1024 * 1024:
                session.add_all(pending)
                session.flush()
                _note_queued(created, pending)
                session.expunge_all()
                pending, pending_bytes = [], 0
        if pending:
            session.add_all(pending)
            session.flush()
            _note_queued(created, pending)
        refresh_job(session, job_id)
        session.commit()
    metrics.record_submitted(mode, len(found))
    return created


def _column_length(column) -> int:
    return column.property.columns[0].type.length


_PATH_COLUMNS = ((Document.path, "relative path"), (Document.source_path, "path"),
                 (Document.output_path, "output path"))


def _fit_columns(doc: Document) -> str | None:
    """None when the document's paths fit their columns (PostgreSQL enforces the lengths,
    SQLite does not: the same limits for both). Otherwise the paths are shortened in the middle
    to fit, and the message says which one was too long: that document fails alone."""
    problem = None
    for column, what in _PATH_COLUMNS:
        value = getattr(doc, column.key)
        limit = _column_length(column)
        if value is not None and len(value) > limit:
            problem = problem or (f"{_middle(doc.source_path, 300)}: the {what} is "
                                  f"{len(value):,} characters, over the limit of {limit:,}; "
                                  "move the file to a shorter path")
            setattr(doc, column.key, _middle(value, limit))
    return problem


def _middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return text[:keep] + "…" + text[len(text) - (limit - 1 - keep):]


def _note_queued(created: Created, docs: list[Document]) -> None:
    for d in docs:
        if d.status == QUEUED:
            created.queued_ids.append(d.id)
            created.sizes[d.id] = d.size


def _read_input(item: inputs.InputFile, max_bytes: int) -> tuple[bytes | None, str | None]:
    path = Path(item.source)
    try:
        st = path.stat()
        if not path.is_file():
            return None, f"{item.source}: not a regular file; pass documents only"
        if st.st_size > max_bytes:
            return None, (f"{item.source}: {st.st_size:,} bytes is over the limit of "
                          f"{max_bytes:,} per document "
                          f"({config.setting('max_document_bytes').env_var}); split the document "
                          "or raise the limit")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        return None, f"{item.source}: cannot read the file (permission denied); check its " \
                     "permissions"
    except FileNotFoundError:
        return None, f"{item.source}: the file disappeared while reading; check the path"
    except OSError as exc:
        return None, f"{item.source}: cannot read the file ({exc.strerror or exc}); check it"
    if len(data) > max_bytes:
        return None, (f"{item.source}: over the limit of {max_bytes:,} bytes per document "
                      f"({config.setting('max_document_bytes').env_var}); split it")
    return data, None


def chunks(ids: Sequence[int], size: int | None = None,
           sizes: Mapping[int, int] | None = None) -> list[list[int]]:
    """The documents ``ids`` in task-sized chunks: at most ``size`` (documents_per_task) a chunk
    and, when their byte ``sizes`` are known, at most ``solo_document_bytes`` of source a chunk,
    so that a document whose size predicts a long run goes in a task of its own and cannot hold
    small task-mates back until a time limit or a visibility timeout."""
    size = max(1, size or config.get("documents_per_task"))
    solo = config.get("solo_document_bytes")
    out: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for doc_id in ids:
        nbytes = (sizes or {}).get(doc_id, 0)
        if current and (len(current) >= size or current_bytes + nbytes > solo):
            out.append(current)
            current, current_bytes = [], 0
        current.append(doc_id)
        current_bytes += nbytes
    if current:
        out.append(current)
    return out


def submit(paths: Sequence[str], options: JobOptions, *, name: str | None = None,
           priority: str = "normal", url: str | None = None) -> Created:
    """Record a job and queue it for the workers; returns the job id and input errors."""
    from .. import queue  # Celery: only where a job goes to the workers (convert needs none)

    from ..fleet.control import choose_queue

    queue.check_broker()
    target, warnings = choose_queue(options.engine)
    created = create_job(paths, options, name=name, priority=priority, mode="queued", url=url)
    created.queue, created.warnings = target, warnings
    queue.send_chunks(created.job_id, created.chunks(), priority, target)
    return created


@dataclass
class ConvertResult:
    job_id: str
    written: list[Path]
    counts: Counter
    errors: list[str]
    stats: object
    write_errors: list[str] = field(default_factory=list)


def convert(paths: Sequence[str], outdir: str | Path, options: JobOptions, *,
            name: str | None = None, url: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> ConvertResult:
    """Embedded mode: record the job and run the pipeline here, then write the results."""
    from ..translate.registry import get_engine

    get_engine(options.engine, options.table)  # an unusable engine fails before any work
    created = create_job(paths, options, name=name, mode="embedded", url=url)
    stats = Stats()
    total = created.total
    finished = total - len(created.queued_ids)
    if progress:
        progress(finished, total)
    for ids in created.chunks():
        stats.add(process_documents(created.job_id, ids, url=url))
        finished += len(ids)
        if progress:
            progress(finished, total)
    fetched = fetch(created.job_id, outdir, url=url)
    return ConvertResult(created.job_id, fetched.written, fetched.counts, fetched.errors, stats,
                         fetched.write_errors)


def find_job(session: Session, ref: str) -> Job:
    """A job by id or unique id prefix (at least 4 characters)."""
    ref = ref.strip().lower()
    job = session.get(Job, ref)
    if job is not None:
        return job
    if len(ref) >= 4:
        rows = session.scalars(select(Job).where(Job.id.startswith(ref, autoescape=True))
                               .limit(2)).all()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise JobError(f"job id {ref!r} is ambiguous; give more characters")
    raise JobError(f"no job {ref!r}; `braillejobs jobs` lists the jobs")


def _iso(dt) -> str | None:
    """ISO 8601 in UTC with its offset (SQLite gives the stored UTC times back without one)."""
    if dt is None:
        return None
    return aware(dt).astimezone(timezone.utc).isoformat(timespec="seconds")


def progress(job_ref: str, url: str | None = None) -> dict:
    """The progress of one job: state, counts per status, chars and cells so far."""

    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        counts = document_counts(session, job.id)
        # The job's state is read again after its documents: a worker's last store commits
        # both at once, so documents that all show finished here come with the state that
        # store set. Read before them, the state could predate that commit (read skew).
        session.refresh(job)
        return _progress(session, job, counts)


def _progress(session: Session, job: Job, counts: Counter) -> dict:
    from sqlalchemy import func

    chars, cells, dedup = session.execute(
        select(func.coalesce(func.sum(Document.chars), 0),
               func.coalesce(func.sum(Document.cells), 0),
               func.count().filter(Document.deduplicated.is_(True)))
        .where(Document.job_id == job.id, Document.status == DONE)).one()
    return {"id": job.id, "name": job.name, "state": job.status, "mode": job.mode,
            "priority": job.priority, "options": job.options, "total": job.documents_total,
            "queued": counts[QUEUED], "running": counts[RUNNING], "done": counts[DONE],
            "failed": counts[FAILED], "cancelled": counts[CANCELLED],
            "deduplicated": int(dedup), "chars": int(chars), "cells": int(cells),
            "created_at": _iso(job.created_at), "finished_at": _iso(job.finished_at)}


def errors(job_ref: str, url: str | None = None, limit: int = 1000) -> list[str]:
    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        return list(session.scalars(
            select(Document.error).where(Document.job_id == job.id, Document.status == FAILED)
            .order_by(Document.seq).limit(limit)))


def corrections_used(job_ref: str, url: str | None = None) -> dict[str, dict[str, int]]:
    """The transcribers' corrections each finished document of the job applied: its path ->
    print text -> times used (documents that applied none are left out)."""
    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        rows = session.execute(
            select(Document.path, Document.corrections_used)
            .where(Document.job_id == job.id, Document.status == DONE,
                   Document.corrections_used.is_not(None))
            .order_by(Document.seq))
        return {path: {k: int(v) for k, v in used.items()} for path, used in rows if used}


def warnings(job_ref: str, url: str | None = None, limit: int = 1000) -> list[str]:
    """What the job's finished documents recorded for the operator (characters transcribed,
    text kept from over-deep nesting, ...), in document order."""
    out: list[str] = []
    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        for recorded in session.scalars(
                select(Document.warnings).where(Document.job_id == job.id,
                                                Document.status == DONE)
                .order_by(Document.seq)):
            out.extend(recorded or [])
            if len(out) >= limit:
                return out[:limit]
    return out


def list_jobs(state: str | None = None, limit: int = 20, url: str | None = None) -> list[dict]:

    if state is not None and state not in JOB_STATES:
        raise JobError(f"unknown state {state!r}: choose one of {', '.join(JOB_STATES)}")
    with session_factory(url)() as session:
        query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
        if state is not None:
            query = query.where(Job.status == state)
        return [_progress(session, job, document_counts(session, job.id))
                for job in session.scalars(query).all()]


@dataclass
class Cancelled:
    job_id: str
    documents: int                     # queued documents cancelled
    messages: int = 0                  # their task messages taken out of the queues
    warning: str | None = None         # why the messages could not be taken out


def cancel(job_ref: str, url: str | None = None) -> Cancelled:
    """Cancel the queued documents of a job (running ones finish) and take its waiting task
    messages out of the queues (workers would skip them, but they would still count as work
    waiting, and scale a fleet up for nothing)."""
    job_id, mode, n = retry_db(lambda: _cancel(job_ref, url), f"cancel job {job_ref}")
    done = Cancelled(job_id, n)
    if mode == "queued":
        from .. import config
        from ..fleet.control import FleetError, remove_job_messages

        try:
            done.messages = remove_job_messages(job_id, [config.get("queue"),
                                                         config.get("gpu_queue")])
        except (FleetError, OSError) as exc:
            done.warning = (f"its task messages stay in the queue ({exc}); workers skip them "
                            "when they come")
    return done


def _cancel(job_ref: str, url: str | None) -> tuple[str, str, int]:

    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        lock_job(session, job.id)  # the job's row first, then its documents (db.state.lock_job)
        session.refresh(job)
        if job.status in (DONE, FAILED):
            raise JobError(f"job {job.id} has already finished ({job.status}); nothing to cancel")
        now = utcnow()
        n = session.execute(update(Document)
                            .where(Document.job_id == job.id, Document.status == QUEUED)
                            .values(status=CANCELLED, finished_at=now, error="cancelled")
                            .execution_options(synchronize_session=False)).rowcount
        job.status = CANCELLED
        job.updated_at = now
        refresh_job(session, job.id)
        session.commit()
        return job.id, job.mode, int(n or 0)


def retry(job_ref: str, failed_only: bool = False, url: str | None = None) -> tuple[str, int]:
    """Put the failed (and, unless ``failed_only``, cancelled and never-sent queued) documents
    of a job back in the queue. Returns the job id and how many documents were requeued."""

    job_id, mode, priority, ids, sizes, engine = retry_db(
        lambda: _requeue(job_ref, failed_only, url), f"retry job {job_ref}")
    if not ids:
        return job_id, 0
    if mode == "embedded":
        for chunk in chunks(ids, sizes=sizes):
            process_documents(job_id, chunk, url=url)
    else:
        from .. import queue
        from ..fleet.control import choose_queue

        target, _warnings = choose_queue(engine)
        queue.send_chunks(job_id, chunks(ids, sizes=sizes), priority, target)
    return job_id, len(ids)


def _requeue(job_ref: str, failed_only: bool, url: str | None):

    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        lock_job(session, job.id)  # the job's row first, then its documents (db.state.lock_job)
        statuses = [FAILED] if failed_only else [FAILED, CANCELLED, QUEUED]
        # Documents that failed at submit (missing, unreadable) have no source: not retried.
        sizes = dict(session.execute(
            select(Document.id, Document.size).where(Document.job_id == job.id,
                                                     Document.sha256.is_not(None))).all())
        ids = list(session.scalars(
            select(Document.id).where(Document.job_id == job.id, Document.status.in_(statuses),
                                      Document.sha256.is_not(None)).order_by(Document.id)))
        # Running documents whose claimer is gone (an interrupted convert, a killed worker on
        # this host, or a claim older than the task time limit) are retried too.
        stale = stale_before()
        for doc_id, claimed_by, claimed_at in session.execute(
                select(Document.id, Document.claimed_by, Document.claimed_at)
                .where(Document.job_id == job.id, Document.status == RUNNING)):
            if _claimer_gone(claimed_by) or (claimed_at is not None and
                                             aware(claimed_at) < stale):
                ids.append(doc_id)
        ids.sort()
        if ids:
            session.execute(update(Document).where(Document.id.in_(ids))
                            .values(status=QUEUED, attempts=0, error=None, finished_at=None,
                                    claim_token=None, claimed_at=None)
                            .execution_options(synchronize_session=False))
            job.status = QUEUED
            job.finished_at = None
            refresh_job(session, job.id)
        session.commit()
        return job.id, job.mode, job.priority, ids, sizes, job.options["engine"]


def _claimer_gone(claimed_by: str | None) -> bool:
    """True when the claim was made by a process of this host that no longer runs."""
    if not claimed_by or ":" not in claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Fetched:
    written: list[Path]
    counts: Counter
    errors: list[str]  # failed documents' errors, then write_errors
    write_errors: list[str] = field(default_factory=list)  # done documents not written out


def _safe_target(outdir: Path, base: str, extension: str) -> Path:
    rel = inputs.safe_relpath(base) + "." + extension
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        raise JobError(f"{rel}: refusing to write outside {outdir}")
    return outdir / rel  # write_inside refuses folders that lead outside (planted links)


def fetch(job_ref: str, outdir: str | Path, url: str | None = None) -> Fetched:
    """Write the braille of every done document of a job under ``outdir``."""

    out = Path(outdir)
    written: list[Path] = []
    fetch_errors: list[str] = []
    with session_factory(url)() as session:
        job = find_job(session, job_ref)  # an unknown job makes no output folder
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JobError(f"{out}: cannot create the output directory ({exc.strerror}); "
                           "choose another -o") from None
        counts = document_counts(session, job.id)
        rows = session.execute(
            select(Document.output_path, Document.path, Result.extension, Result.content)
            .join(Result, Result.document_id == Document.id)
            .where(Document.job_id == job.id, Document.status == DONE)
            .order_by(Document.seq)
            .execution_options(yield_per=200))
        for base, path, extension, content in rows:
            try:
                target = _safe_target(out, base or path, extension)
                written.append(write_inside(out, target, content))
            except (JobError, UnsafePath, OSError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                fetch_errors.append(f"{path}: cannot write its braille under {out} ({reason}); "
                                    "choose an empty output directory")
        errs = list(session.scalars(
            select(Document.error).where(Document.job_id == job.id, Document.status == FAILED)
            .order_by(Document.seq)))
    return Fetched(written, counts, [e for e in errs if e] + fetch_errors, fetch_errors)


def wait(job_ref: str, url: str | None = None, timeout: float | None = None,
         on_progress: Callable[[dict], None] | None = None) -> dict:
    """Poll until no document of the job is queued or running; returns the last progress."""
    deadline = None if timeout is None else time.monotonic() + timeout
    interval = config.get("wait_poll_seconds")
    while True:
        info = progress(job_ref, url)
        if on_progress:
            on_progress(info)
        if info["queued"] + info["running"] == 0:
            return info
        if deadline is not None and time.monotonic() > deadline:
            raise JobError(f"job {info['id']} is still running after {timeout:.0f} s; "
                           "`braillejobs status` follows it")
        time.sleep(interval)


def iter_results(job_ref: str, url: str | None = None) -> Iterator[tuple[str, bytes]]:
    """(relative path, braille bytes) of each done document, in input order."""
    with session_factory(url)() as session:
        job = find_job(session, job_ref)
        rows = session.execute(
            select(Document.path, Result.content).join(Result, Result.document_id == Document.id)
            .where(Document.job_id == job.id, Document.status == DONE).order_by(Document.seq)
            .execution_options(yield_per=200))
        for path, content in rows:
            yield path, content
