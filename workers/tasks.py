"""Celery tasks. They take ids and call the pipeline; nothing else happens here.

``on_chunk_done`` hooks (e.g. metrics) receive the :class:`braillejobs.pipeline.Stats` of each
task; a failing hook is logged, never fails the task.
"""

from __future__ import annotations

import logging
from typing import Callable

from celery import Celery

from braillejobs import pipeline, resilience
from braillejobs.db.state import stale_claim_seconds
from braillejobs.queue import TRANSLATE_DOCUMENTS

log = logging.getLogger("braillejobs.worker")

# Times a task is sent again while the database stays unreachable (each after the claim delay).
DB_DOWN_RETRIES = 50

on_chunk_done: list[Callable[[pipeline.Stats], None]] = []


def translate_documents_task(task, job_id: str, document_ids: list[int]) -> dict:
    """The task body: the pipeline retries each database step with backoff; when the database
    stays away longer, the task is sent again once the claims it made have gone stale, so the
    documents are neither lost nor left running."""
    try:
        stats = pipeline.process_documents(job_id, document_ids)
    except Exception as exc:
        if not resilience.is_connection_error(exc):
            raise
        delay = stale_claim_seconds() + 1
        log.warning("job %s: database still unreachable; the task goes back to the queue and "
                    "runs again in %.0f s", job_id, delay)
        raise task.retry(countdown=delay, max_retries=DB_DOWN_RETRIES, exc=None) from None
    if stats.held:
        _come_back_for(task, job_id, stats)
    return _finished(job_id, stats)


def _come_back_for(task, job_id: str, stats: pipeline.Stats) -> None:
    """Documents another claim still holds: a new message for them, due when that claim is
    stale. Sent before this message is acknowledged, so a crash between the two only repeats
    work (the claims make it a no-op), never loses the documents."""
    delay = stats.held_seconds + 1
    info = task.request.delivery_info or {}
    log.warning("job %s: %d document(s) are running under another worker's recent claim; "
                "looking at them again in %.0f s, when that claim has gone stale", job_id,
                len(stats.held), delay)
    task.apply_async(args=[job_id, sorted(stats.held)], countdown=delay,
                     queue=info.get("routing_key") or None, priority=info.get("priority"))


def _finished(job_id: str, stats: pipeline.Stats) -> dict:
    log.info("job %s: %d done, %d failed, %d deduplicated, %d skipped, %d chars in %.2f s",
             job_id, stats.done, stats.failed, stats.deduplicated, stats.skipped, stats.chars,
             stats.seconds)
    for hook in on_chunk_done:
        try:
            hook(stats)
        except Exception:
            log.exception("on_chunk_done hook %r failed", hook)
    return {"done": stats.done, "failed": stats.failed, "skipped": stats.skipped}


def register(app: Celery) -> None:
    # Messages reach the task only through the gate (workers.gate), which checks them whole.
    app.task(name=TRANSLATE_DOCUMENTS, bind=True, acks_late=True,
             reject_on_worker_lost=True)(translate_documents_task)
