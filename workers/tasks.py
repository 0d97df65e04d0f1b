"""Celery tasks. They take ids and call the pipeline; nothing else happens here.

``on_chunk_done`` hooks (e.g. metrics) receive the :class:`braillejobs.pipeline.Stats` of each
task; a failing hook is logged, never fails the task.
"""

from __future__ import annotations

import logging
from typing import Callable

from celery import Celery

from braillejobs import pipeline
from braillejobs.queue import TRANSLATE_DOCUMENTS

log = logging.getLogger("braillejobs.worker")

on_chunk_done: list[Callable[[pipeline.Stats], None]] = []


def translate_documents(job_id: str, document_ids: list[int]) -> dict:
    stats = pipeline.process_documents(job_id, document_ids)
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
    app.task(name=TRANSLATE_DOCUMENTS, bind=False, acks_late=True,
             reject_on_worker_lost=True)(translate_documents)
