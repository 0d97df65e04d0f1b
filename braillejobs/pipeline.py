"""The one path a document takes from queued to done: claim, translate, store.

Both transports use it: ``braillejobs convert`` calls :func:`process_documents` in-process for
each chunk of a job, and a Celery worker calls it from its task with the ids the message carried.

1. **Claim** the documents with a compare-and-set on their status: an UPDATE that moves only
   ``queued`` rows (or ``running`` rows whose claim is older than the task time limit, i.e. whose
   worker died) to ``running`` under a fresh claim token. A redelivered message finds its documents
   already claimed or done and does nothing.
2. **Dedup**: a document whose sha256 and options match a stored result reuses that result.
   The transcribers' corrections in force (the global set and the job's named set, read once
   per group of documents) are part of that key: a correction added since makes earlier
   results stale.
3. **Translate**: every other document is read and parsed (``formats.prepare``); the lines of all
   documents of the chunk go to the engine in one ``translate_lines`` call (split only when they
   pass the ``batch_chars`` setting), then each document is laid out (``formats.finish``).
4. **Store**: documents still held under our claim token are marked done or failed, and their
   results upserted on ``document_id`` in one transaction, so storing twice never duplicates.

A document that fails (bad input, an engine error) is recorded with its message; it never stops
the others. :func:`process_documents` returns :class:`Stats` for logs and metrics.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import config, formats
from .corrections import CorrectionError
from .db.models import DONE, FAILED, QUEUED, RUNNING, Document, Job, Result, aware, utcnow
from .db.session import session_factory
from .db.state import claimable, lock_job, refresh_job, stale_claim_seconds
from .formats.limits import count_pages
from .resilience import retry_db
from .translate.engine import EngineError, LineTranslation
from .translate.registry import get_engine, resolve as resolve_engine

log = logging.getLogger(__name__)


@dataclass
class Stats:
    """What one call of :func:`process_documents` did."""
    claimed: int = 0
    done: int = 0
    failed: int = 0
    deduplicated: int = 0
    skipped: int = 0            # not claimed: already claimed, done, cancelled or unknown
    chars: int = 0              # characters translated (deduplicated documents not counted)
    cells: int = 0
    chars_by_engine: Counter = field(default_factory=Counter)
    transcribed: Counter = field(default_factory=Counter)  # characters with no sign, by kind
    corrections: Counter = field(default_factory=Counter)  # corrections applied, by print text
    translate_seconds: float = 0.0
    seconds: float = 0.0
    document_seconds: list[float] = field(default_factory=list)
    # Of the documents stored (done or failed): seconds from submit to claim, and of those done,
    # seconds from submit to done (the latency histograms of braillejobs.metrics).
    queue_wait_seconds: list[float] = field(default_factory=list)
    submit_to_done_seconds: list[float] = field(default_factory=list)
    batch_chars: list[int] = field(default_factory=list)  # characters per engine call
    format: str = ""
    engine: str = ""
    # Documents left ``running`` under another claim that is not stale yet (a worker that may
    # have died mid-task), and the seconds until the last of those claims goes stale: whoever
    # called must look at them again then, or nothing would ever finish them.
    held: list[int] = field(default_factory=list)
    held_seconds: float = 0.0

    def add(self, other: "Stats") -> None:
        for name in ("claimed", "done", "failed", "deduplicated", "skipped", "chars", "cells",
                     "translate_seconds", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.held.extend(other.held)
        self.held_seconds = max(self.held_seconds, other.held_seconds)
        self.chars_by_engine.update(other.chars_by_engine)
        self.transcribed.update(other.transcribed)
        self.corrections.update(other.corrections)
        self.document_seconds.extend(other.document_seconds)
        self.queue_wait_seconds.extend(other.queue_wait_seconds)
        self.submit_to_done_seconds.extend(other.submit_to_done_seconds)
        self.batch_chars.extend(other.batch_chars)
        self.format = self.format or other.format
        self.engine = self.engine or other.engine


@dataclass
class _Outcome:
    id: int
    path: str
    sha256: str | None
    source: bytes | None
    prepared: formats.Prepared | None = None
    rendered: formats.Rendered | None = None
    error: str | None = None
    reused_from: int | None = None
    seconds: float = 0.0
    created_at: datetime | None = None   # when it was submitted
    claimed_at: datetime | None = None   # when this claim took it
    corrections_used: dict[str, int] | None = None   # print text -> times applied


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def process_documents(job_id: str, document_ids: Sequence[int], *, url: str | None = None,
                      worker: str | None = None) -> Stats:
    """Claim, translate and store the given documents of one job.

    Each database step is retried with backoff while the database is unreachable
    (:func:`braillejobs.resilience.retry_db`); the claim token makes a repeated step a no-op.
    When some of the documents were tried before (their worker died or ran out of time), they
    are claimed, translated and stored one at a time, least-tried first: a poison document then
    costs attempts only to itself, and the others are done before it is reached again.
    """
    started = time.perf_counter()
    stats = Stats()
    ids = sorted(set(int(i) for i in document_ids))
    factory = retry_db(lambda: session_factory(url), "open the database")
    claimer = worker or worker_name()

    def peek():
        with factory() as session:
            job = session.get(Job, job_id)
            if job is None or not ids:
                return None, {}
            tried = dict(session.execute(
                select(Document.id, Document.attempts)
                .where(Document.id.in_(ids), Document.job_id == job_id, claimable(utcnow()),
                       Document.attempts > 0)).all())
            return dict(job.options), tried

    options, tried = retry_db(peek, f"read job {job_id}")
    if options is None:
        stats.skipped = len(ids)
        return stats
    stats.format, stats.engine = options["format"], resolve_engine(options["engine"])
    if tried:
        groups = [[i] for i in sorted(ids, key=lambda i: (tried.get(i, 0), i))]
    else:
        groups = [ids]
    for group in groups:
        token = uuid.uuid4().hex

        def claim(group=group, token=token):
            with factory() as session:
                return _claim(session, job_id, group, token, claimer)

        claimed = retry_db(claim, f"claim documents of job {job_id}")
        stats.claimed += len(claimed)
        stats.skipped += len(group) - len(claimed)
        if claimed:
            _process_group(factory, url, job_id, _outcomes(claimed), options, token, stats)
        if len(claimed) < len(group):
            rest = sorted(set(group) - {row.id for row in claimed})

            def held(rest=rest):
                with factory() as session:
                    return _held_elsewhere(session, job_id, rest)

            ids_held, wait = retry_db(held, f"look at the claims of job {job_id}")
            stats.held.extend(ids_held)
            stats.held_seconds = max(stats.held_seconds, wait)
    stats.seconds = time.perf_counter() - started
    return stats


def _held_elsewhere(session: Session, job_id: str, ids: list[int]) -> tuple[list[int], float]:
    """Of ``ids``, those still ``running`` under a claim that is not stale yet, and the seconds
    until the last of those claims is stale.

    Such a claim may belong to a worker that is alive (it will finish the document) or to one
    that died mid-task after claiming it. In the second case its message was redelivered and
    is being acknowledged by the task that skips the document now; so that task must come back
    for it once the claim is stale, or the document stays ``running`` for ever."""
    rows = session.execute(select(Document.id, Document.claimed_at).where(
        Document.id.in_(ids), Document.job_id == job_id, Document.status == RUNNING)).all()
    now = utcnow()
    stale = stale_claim_seconds()
    wait = 0.0
    for _id, claimed_at in rows:
        age = (now - aware(claimed_at)).total_seconds() if claimed_at is not None else stale
        wait = max(wait, stale - age)
    return [r.id for r in rows], max(0.0, wait)


def _outcomes(claimed) -> list[_Outcome]:
    max_attempts = config.get("max_attempts")
    outcomes: list[_Outcome] = []
    for row in claimed:
        o = _Outcome(row.id, row.path, row.sha256, row.source,
                     created_at=aware(row.created_at) if row.created_at else None,
                     claimed_at=aware(row.claimed_at) if row.claimed_at else None)
        if row.attempts > max_attempts:
            o.error = (f"{row.path}: gave up after {max_attempts} attempts (the worker "
                       "stopped or ran out of time each time); check the worker logs, "
                       "then `braillejobs retry JOB`")
        outcomes.append(o)
    return outcomes


def _process_group(factory, url: str | None, job_id: str, outcomes: list[_Outcome],
                   options: dict, token: str, stats: Stats) -> None:
    """Dedup, translate and store some claimed documents, in one transaction."""
    active, key = None, None
    try:
        active, key = retry_db(lambda: _corrections(factory, url, job_id, options),
                               f"read the corrections for job {job_id}")
    except (CorrectionError, OSError) as exc:
        for o in outcomes:
            o.error = o.error or (f"{o.path}: cannot apply the transcribers' corrections "
                                  f"({exc}); fix them with `braillejobs corrections`, then "
                                  "`braillejobs retry JOB`")

    def find():
        with factory() as session:
            return _find_reusable(session, key, [o for o in outcomes if o.error is None])

    reused = retry_db(find, f"look up stored results for job {job_id}") if key else {}
    _translate(outcomes, options, stats, active)
    _check_pages(outcomes, options)
    before = copy.deepcopy(stats)

    def store():
        nonlocal stats_after
        stats_after = copy.deepcopy(before)
        with factory() as session:
            job = session.get(Job, job_id)
            _store(session, job, key or job.options_key, outcomes, reused, token, stats_after)
            refresh_job(session, job_id)
            session.commit()

    stats_after = before
    retry_db(store, f"store results of job {job_id}")
    for name in ("done", "failed", "deduplicated", "chars", "cells"):
        setattr(stats, name, getattr(stats_after, name))
    stats.chars_by_engine = stats_after.chars_by_engine
    stats.transcribed = stats_after.transcribed
    stats.corrections = stats_after.corrections
    stats.document_seconds = stats_after.document_seconds
    stats.queue_wait_seconds = stats_after.queue_wait_seconds
    stats.submit_to_done_seconds = stats_after.submit_to_done_seconds


def result_key(options_key: str, corrections_digest: str | None) -> str:
    """The dedup key of a result: its job's options and the content of the corrections it was
    translated with (a correction added or removed since makes an earlier result stale)."""
    if corrections_digest is None:
        return options_key
    return hashlib.sha256(f"{options_key}:{corrections_digest}".encode()).hexdigest()


def _corrections(factory, url: str | None, job_id: str, options: dict):
    """The corrections in force for the job (None: none at all) and the dedup key of its
    results under them."""
    from .corrections.active import load

    with factory() as session:
        options_key = session.get(Job, job_id).options_key
    active = load(options["table"], options.get("corrections"), url=url)
    return active, result_key(options_key, active.digest if active is not None else None)


def _check_pages(outcomes: list[_Outcome], options: dict) -> None:
    limit = config.get("max_pages")
    for o in outcomes:
        if o.rendered is None or o.error is not None:
            continue
        pages = count_pages(o.rendered, options.get("lines_per_page") or 25,
                            options.get("cells_per_line") or 40)
        if pages > limit:
            o.error = (f"{o.path}: {pages:,} braille pages is over the limit of {limit:,} per "
                       f"document ({config.setting('max_pages').env_var}); split the document "
                       "or raise the limit")
            o.rendered = None


def _claim(session: Session, job_id: str, ids: list[int], token: str, worker: str):
    now = utcnow()
    lock_job(session, job_id)
    session.execute(
        update(Document)
        .where(Document.id.in_(ids), Document.job_id == job_id, claimable(now))
        .values(status=RUNNING, claim_token=token, claimed_by=worker[:200], claimed_at=now,
                attempts=Document.attempts + 1)
        .execution_options(synchronize_session=False))
    job_update = update(Job).where(Job.id == job_id, Job.status == QUEUED) \
        .values(status=RUNNING, updated_at=now)
    session.execute(job_update)
    session.commit()
    return session.execute(
        select(Document.id, Document.path, Document.sha256, Document.attempts, Document.source,
               Document.created_at, Document.claimed_at)
        .where(Document.id.in_(ids), Document.claim_token == token)
        .order_by(Document.id)).all()


def _find_reusable(session: Session, options_key: str, outcomes: list[_Outcome]
                   ) -> dict[str, int]:
    """sha256 -> id of a stored result with the same source and options (dedup)."""
    if not config.get("dedup"):
        return {}
    shas = sorted({o.sha256 for o in outcomes if o.sha256})
    found: dict[str, int] = {}
    for i in range(0, len(shas), 500):
        rows = session.execute(
            select(Result.source_sha256, func.min(Result.id))
            .where(Result.options_key == options_key, Result.source_sha256.in_(shas[i:i + 500]))
            .group_by(Result.source_sha256)).all()
        found.update({sha: rid for sha, rid in rows})
    for o in outcomes:
        if o.sha256 in found:
            o.reused_from = found[o.sha256]
    return found


def _translate(outcomes: list[_Outcome], options: dict, stats: Stats, active=None) -> None:
    render_options = formats.RenderOptions.of(options)
    todo: list[_Outcome] = []
    first_by_sha: dict[str, _Outcome] = {}
    for o in outcomes:
        if o.error is not None or o.reused_from is not None:
            continue
        if config.get("dedup") and o.sha256 in first_by_sha:
            continue  # same source as an earlier document of this chunk: copied in _store
        t0 = time.perf_counter()
        try:
            o.prepared = formats.prepare(o.source or b"", o.path, render_options)
        except formats.DocumentError as exc:
            o.error = str(exc)
        except Exception as exc:  # a reader bug must not stop the other documents
            log.exception("reading %s failed", o.path)
            o.error = (f"{o.path}: cannot read this document ({exc.__class__.__name__}: {exc}); "
                       "check that it is a valid file of its type")
        o.seconds += time.perf_counter() - t0
        if o.prepared is not None:
            todo.append(o)
            if o.sha256:
                first_by_sha[o.sha256] = o
    if not todo:
        return
    try:
        engine = get_engine(options["engine"], options["table"], active)
    except EngineError as exc:
        for o in todo:
            o.error = f"{o.path}: {exc}"
        return
    limit = max(1, config.get("batch_chars"))
    batch: list[_Outcome] = []
    size = 0
    for o in todo:
        chars = sum(len(line) for line in o.prepared.lines)
        if batch and size + chars > limit:
            _translate_batch(engine, batch, stats)
            batch, size = [], 0
        batch.append(o)
        size += chars
    if batch:
        _translate_batch(engine, batch, stats, active)


def _translate_batch(engine, batch: list[_Outcome], stats: Stats, active=None) -> None:
    lines: list[str] = []
    typeforms: list[list[int] | None] = []
    any_typeforms = False
    for o in batch:
        lines.extend(o.prepared.lines)
        if o.prepared.typeforms is not None:
            any_typeforms = True
            typeforms.extend(o.prepared.typeforms)
        else:
            typeforms.extend([None] * len(o.prepared.lines))
    t0 = time.perf_counter()
    try:
        results = engine.translate_lines(lines, typeforms if any_typeforms else None)
        if len(results) != len(lines):
            raise EngineError(f"engine {engine.name} returned {len(results)} lines for "
                              f"{len(lines)}")
    except Exception as exc:
        if len(batch) > 1:  # find the document that breaks the engine; the others go on
            for o in batch:
                _translate_batch(engine, [o], stats, active)
            return
        o = batch[0]
        if not isinstance(exc, EngineError):
            log.exception("engine %s failed on %s", engine.name, o.path)
        o.error = f"{o.path}: translation failed ({exc}); report this document to the operators"
        return
    elapsed = time.perf_counter() - t0
    stats.translate_seconds += elapsed
    stats.batch_chars.append(sum(len(line) for line in lines))
    total_chars = max(1, len(lines) and sum(len(line) for line in lines))
    start = 0
    for o in batch:
        n = len(o.prepared.lines)
        mine: list[LineTranslation] = results[start:start + n]
        start += n
        o.seconds += elapsed * sum(len(line) for line in o.prepared.lines) / total_chars
        t1 = time.perf_counter()
        try:
            o.rendered = formats.finish(o.prepared, mine,
                                        active.tables if active is not None else None)
            if active is not None:
                o.corrections_used = active.matcher.count(o.prepared.lines) or None
        except formats.DocumentError as exc:
            o.error = str(exc)
        except Exception as exc:
            log.exception("laying out %s failed", o.path)
            o.error = (f"{o.path}: cannot lay out this document ({exc.__class__.__name__}: "
                       f"{exc}); report it to the operators")
        o.seconds += time.perf_counter() - t1


_DOC = Document.__table__


def _store(session: Session, job: Job, key: str, outcomes: list[_Outcome],
           reused: dict[str, int], token: str, stats: Stats) -> None:
    now = utcnow()
    lock_job(session, job.id)
    engine_name = resolve_engine(job.options["engine"])   # the engine that ran
    by_sha = {o.sha256: o for o in outcomes if o.rendered is not None and o.sha256}
    earlier_ids = sorted({o.reused_from for o in outcomes if o.reused_from is not None})
    earlier: dict[int, dict] = {}
    if earlier_ids:
        rows = session.execute(
            select(Result.id, Result.content, Result.extension, Result.engine, Result.chars,
                   Result.cells, Result.chars_by_engine, Result.corrections_used)
            .where(Result.id.in_(earlier_ids)))
        earlier = {r.id: r._asdict() for r in rows}

    done_rows: list[dict] = []
    result_rows: list[dict] = []
    failed_rows: list[dict] = []
    for o in outcomes:
        rendered = o.rendered
        copy_of: dict | None = None
        if o.error is None and rendered is None:
            if o.reused_from is not None and o.reused_from in earlier:
                copy_of = dict(earlier[o.reused_from])
            elif o.sha256 in by_sha and by_sha[o.sha256].rendered is not None:
                first = by_sha[o.sha256]
                r = first.rendered
                copy_of = {"id": None, "content": r.content, "extension": r.extension,
                           "engine": engine_name, "chars": r.chars, "cells": r.cells,
                           "chars_by_engine": dict(r.chars_by_engine),
                           "corrections_used": first.corrections_used}
            elif o.sha256 in by_sha or o.reused_from is not None:
                o.error = f"{o.path}: the stored result to reuse has gone; retry the job"
            else:
                first = next((x for x in outcomes if x.sha256 == o.sha256 and x.error), None)
                o.error = first.error.replace(first.path, o.path, 1) if first else \
                    f"{o.path}: not translated; retry the job"
        if o.error is not None:
            failed_rows.append({"b_id": o.id, "b_token": token, "b_status": FAILED,
                                "b_error": o.error, "b_finished": now, "b_seconds": o.seconds})
            continue
        if copy_of is not None:
            content, extension = copy_of["content"], copy_of["extension"]
            chars, cells = copy_of["chars"], copy_of["cells"]
            by_engine = dict(copy_of["chars_by_engine"] or {})
            warnings = None
            engine_used = copy_of["engine"]
            used = copy_of["corrections_used"] or None
        else:
            content, extension = rendered.content, rendered.extension
            chars, cells = rendered.chars, rendered.cells
            by_engine = {k: int(v) for k, v in rendered.chars_by_engine.items()}
            warnings = list(rendered.warnings) or None
            engine_used = engine_name
            used = o.corrections_used
        done_rows.append({"b_id": o.id, "b_token": token, "b_status": DONE, "b_engine":
                          engine_used, "b_chars": chars, "b_cells": cells, "b_by_engine":
                          by_engine, "b_seconds": o.seconds, "b_dedup": copy_of is not None,
                          "b_warnings": warnings, "b_finished": now, "b_used": used})
        result_rows.append({"document_id": o.id, "job_id": job.id, "source_sha256":
                            o.sha256 or "", "options_key": key, "content": content,
                            "extension": extension, "engine": engine_used, "chars": chars,
                            "cells": cells, "chars_by_engine": by_engine,
                            "corrections_used": used, "duration_s": o.seconds, "reused_from_id":
                            copy_of["id"] if copy_of is not None else None,
                            "created_at": now})

    if done_rows:
        session.execute(
            _DOC.update()
            .where(_DOC.c.id == bindparam("b_id"), _DOC.c.claim_token == bindparam("b_token"))
            .values(status=bindparam("b_status"), engine=bindparam("b_engine"),
                    chars=bindparam("b_chars"), cells=bindparam("b_cells"),
                    chars_by_engine=bindparam("b_by_engine"), duration_s=bindparam("b_seconds"),
                    deduplicated=bindparam("b_dedup"), warnings=bindparam("b_warnings"),
                    corrections_used=bindparam("b_used"), error=None,
                    finished_at=bindparam("b_finished")),
            done_rows)
    if failed_rows:
        session.execute(
            _DOC.update()
            .where(_DOC.c.id == bindparam("b_id"), _DOC.c.claim_token == bindparam("b_token"))
            .values(status=bindparam("b_status"), error=bindparam("b_error"),
                    finished_at=bindparam("b_finished"), duration_s=bindparam("b_seconds")),
            failed_rows)
    # Only documents still under our claim are ours to store (a worker presumed dead may have
    # lost them to another); their rows are locked by the UPDATE above until we commit.
    ids = [o.id for o in outcomes]
    owned = set(session.scalars(select(Document.id).where(Document.id.in_(ids),
                                                          Document.claim_token == token)))
    result_rows = [r for r in result_rows if r["document_id"] in owned]
    if result_rows:
        _upsert_results(session, result_rows)
    for o in outcomes:
        if o.id not in owned:
            continue
        if o.created_at is not None and o.claimed_at is not None:
            stats.queue_wait_seconds.append((o.claimed_at - o.created_at).total_seconds())
        if o.error is None and o.created_at is not None:
            stats.submit_to_done_seconds.append((now - o.created_at).total_seconds())
        if o.error is not None:
            stats.failed += 1
            log.info("document %s failed: %s", o.id, o.error)
        else:
            stats.done += 1
            if o.rendered is not None:
                stats.chars += o.rendered.chars
                stats.cells += o.rendered.cells
                stats.chars_by_engine.update(o.rendered.chars_by_engine)
                stats.transcribed.update(o.rendered.transcribed)
                stats.corrections.update(o.corrections_used or {})
            else:
                stats.deduplicated += 1
        stats.document_seconds.append(o.seconds)


def _upsert_results(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    table = Result.__table__
    if dialect == "postgresql":
        ins = postgresql.insert(table)
    elif dialect == "sqlite":
        ins = sqlite.insert(table)
    else:  # other databases: delete then insert, in the same transaction
        session.execute(table.delete().where(table.c.document_id.in_(
            [r["document_id"] for r in rows])))
        session.execute(table.insert(), rows)
        return
    keep = [c.name for c in table.columns if c.name not in ("id", "document_id")]
    stmt = ins.on_conflict_do_update(index_elements=["document_id"],
                                     set_={name: ins.excluded[name] for name in keep})
    session.execute(stmt, rows)
