"""Queued documents whose task message the broker lost are sent again.

kombu's Redis transport takes a message in two steps: ``BRPOP`` removes it from the queue's list,
then the worker records it as unacknowledged (a hash that Redis gives back after the visibility
timeout). A broker restart or failover between the two, or a reply that Redis had written to its
append-only file but never sent before it stopped, loses that message: its documents stay
``queued`` in the database for ever, with nothing in Redis that would bring a worker to them.

The database is what says which documents are waiting, so the workers check it against the
broker now and then (setting ``lost_message_seconds``): a document still ``queued`` in a job that
has not changed for that long, whose id is in no message of the queues' lists nor in any message
a worker holds, gets a new message. One worker of the fleet checks at a time (a lock in Redis).
A message sent twice costs nothing but the look: the claims in the database let a document be
translated once (:mod:`braillejobs.pipeline`), so the check errs on the side of sending.

The lists are read before the unacknowledged hash: a message that a worker takes while the check
runs moves from the first to the second and is seen in one of them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Iterable

from sqlalchemy import select

from .. import config
from ..db.models import QUEUED, RUNNING, Document, Job, utcnow
from ..db.session import session_factory
from ..db.state import lock_job
from ..messages import task_arguments
from ..queue import queue_keys

log = logging.getLogger("braillejobs.worker")

LOCK_KEY = "braillejobs:lost-messages:{queue}"   # one turn per fleet (its CPU queue names it)
UNACKED_KEY = "unacked"        # kombu's hash of the messages workers hold
PAGE = 1000                    # messages read from Redis at a time
MAX_SCANNED = 200_000          # a check reads at most this many messages, then gives up
MAX_SUSPECTS = 50_000          # documents looked for in one check


@dataclass
class Resent:
    """What one check sent again: job id -> document ids (empty when nothing was lost)."""
    jobs: dict[str, list[int]] = field(default_factory=dict)
    looked_for: int = 0        # queued documents of quiet jobs, looked for in the broker
    scanned: int = 0           # messages read
    complete: bool = True      # False: the broker holds too many messages to check them all

    @property
    def documents(self) -> int:
        return sum(len(ids) for ids in self.jobs.values())


def quiet_queued(session, before) -> dict[int, str]:
    """Document id -> job id: documents ``queued`` for the workers in jobs unchanged since
    ``before`` (those with no source, failed at submit, are never sent)."""
    # Unfinished jobs first (an index on their status), then their documents (an index on job
    # and status): never a scan of every document ever recorded.
    quiet = select(Job.id).where(Job.mode == "queued", Job.status.in_([QUEUED, RUNNING]),
                                 Job.updated_at < before)
    rows = session.execute(
        select(Document.id, Document.job_id)
        .where(Document.job_id.in_(quiet), Document.status == QUEUED,
               Document.sha256.is_not(None))
        .order_by(Document.id).limit(MAX_SUSPECTS))
    return dict(rows.all())


def held_in_broker(client, queues: Iterable[str], wanted: set[int],
                   max_scanned: int = MAX_SCANNED) -> tuple[set[int], int, bool]:
    """Of ``wanted`` document ids, those that a translate task message in the queues' lists or
    held by a worker (unacknowledged) carries; with the messages read and whether the look was
    complete (it stops early once every wanted id was seen, and gives up past
    ``max_scanned`` messages)."""
    max_bytes = config.get("max_message_bytes")
    found: set[int] = set()
    scanned = 0

    def note(raw) -> None:
        args = task_arguments(raw, max_bytes=max_bytes)
        if args is not None:
            found.update(i for i in args[1] if i in wanted)

    for queue in dict.fromkeys(queues):
        for key in queue_keys(queue):
            start = 0
            while True:
                # From the newest end (index 0): a push there moves what is still to read further
                # along and workers pop the other end, so no message that stays in the list is
                # stepped over (one may be read twice).
                items = client.lrange(key, start, start + PAGE - 1)
                if not items:
                    break
                for raw in items:
                    note(raw)
                scanned += len(items)
                start += len(items)
                if found >= wanted:
                    return found, scanned, True
                if scanned >= max_scanned:
                    return found, scanned, False
    cursor = 0
    while True:
        cursor, entries = client.hscan(UNACKED_KEY, cursor, count=PAGE)
        for value in entries.values():
            try:
                payload = json.loads(value)[0]
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            note(json.dumps(payload) if isinstance(payload, dict) else payload)
        scanned += len(entries)
        if not cursor:
            return found, scanned, True


def _still_queued(session, job_id: str, ids: list[int]):
    """Lock the job; its documents of ``ids`` still ``queued``, their sizes, its priority and
    engine (None when the job is gone)."""
    lock_job(session, job_id)
    job = session.get(Job, job_id)
    if job is None:
        return None
    rows = session.execute(select(Document.id, Document.size).where(
        Document.job_id == job_id, Document.status == QUEUED, Document.id.in_(ids))).all()
    return dict(rows), job.priority, job.options.get("engine", "best")


def check(client, quiet_seconds: float, *, url: str | None = None,
          max_scanned: int = MAX_SCANNED) -> Resent:
    """One check (see the module notes): find queued documents of quiet jobs that no message
    in the broker carries and send them again. ``client`` is the broker's Redis client."""
    from ..fleet.control import choose_queue
    from ..jobs.lifecycle import chunks
    from ..queue import send_chunks

    done = Resent()
    factory = session_factory(url)
    with factory() as session:
        suspects = quiet_queued(session, utcnow() - timedelta(seconds=quiet_seconds))
    done.looked_for = len(suspects)
    if not suspects:
        return done
    queues = [config.get("queue"), config.get("gpu_queue")]
    found, done.scanned, done.complete = held_in_broker(client, queues, set(suspects),
                                                        max_scanned)
    if not done.complete:
        log.info("lost-message check: the queues hold more than %d messages; not all %d "
                 "waiting documents were looked for, nothing was sent again", max_scanned,
                 len(suspects))
        return done
    by_job: dict[str, list[int]] = {}
    for doc_id, job_id in suspects.items():
        if doc_id not in found:
            by_job.setdefault(job_id, []).append(doc_id)
    for job_id, ids in by_job.items():
        with factory() as session:
            fetched = _still_queued(session, job_id, ids)
            session.commit()   # the lock only orders this against a cancel or a retry
        if fetched is None:
            continue
        sizes, priority, engine = fetched
        ids = sorted(sizes)
        if not ids:
            continue
        target, _warnings = choose_queue(engine)
        send_chunks(job_id, chunks(ids, sizes=sizes), priority, target)
        done.jobs[job_id] = ids
        log.warning("job %s: %d queued document(s) had no task message in the broker (one was "
                    "lost, e.g. in a broker restart); sent again on %s", job_id, len(ids),
                    target)
    return done


def take_turn(client, node: str, seconds: float) -> bool:
    """True for the one worker of the fleet whose turn it is to check (for ``seconds``)."""
    key = LOCK_KEY.format(queue=config.get("queue"))
    return bool(client.set(key, node, nx=True, ex=max(1, int(seconds * 0.9))))
