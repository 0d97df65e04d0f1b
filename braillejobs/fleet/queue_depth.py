"""Documents waiting in a queue: the document ids that its waiting task messages carry.

A queue's length in Redis counts messages, and one message of task
:data:`~braillejobs.queue.TRANSLATE_DOCUMENTS` carries up to ``documents_per_task`` document ids
(its second positional argument). To count documents, the messages of each Redis list that kombu
keeps for the queue (:func:`braillejobs.queue.queue_keys`, one per priority step) are read in
pages of :data:`PAGE` with LRANGE, never the whole list at once; each is checked as a worker's
gate checks it, and its document ids are counted. At most ``max_messages`` are read for one
queue: past that the documents of the rest are estimated from the mean of those read (a backlog
that long is counted in hundreds of thousands of documents; the exact figure does not change
what an operator does). A message that a worker would refuse to the dead-letter list (over
``max_message_bytes``, or not a well-formed translate task) carries no document here.

The lists move while they are read (workers pop, submit pushes), so the count is a snapshot, as
the queue length is.
"""

from __future__ import annotations

from typing import Iterable

from .. import config
from ..messages import task_arguments
from ..queue import queue_keys
from .control import FleetError, broker_redis

PAGE = 200
MAX_MESSAGES = 10_000


def document_counts(queues: Iterable[str], *, app=None, max_messages: int = MAX_MESSAGES,
                    page: int = PAGE) -> dict[str, int]:
    """Queue -> documents its waiting messages carry (all priority lists together)."""
    names = list(dict.fromkeys(queues))
    limit = config.get("max_message_bytes")
    conn, client = broker_redis(app)
    try:
        return {name: _count(client, name, max(1, max_messages), max(1, page), limit)
                for name in names}
    except FleetError:
        raise
    except Exception as exc:
        url = config.mask_url(config.get("broker_url"))
        raise FleetError(f"cannot read the queued messages from {url} "
                         f"({exc.__class__.__name__}: {exc}); check the broker") from None
    finally:
        conn.release()


def _count(client, queue: str, max_messages: int, page: int, max_bytes: int) -> int:
    documents = read = waiting = 0
    for key in queue_keys(queue):
        length = int(client.llen(key))
        waiting += length
        start = 0
        while start < length and read < max_messages:
            batch = client.lrange(key, start, start + min(page, max_messages - read) - 1)
            if not batch:
                break
            documents += sum(documents_in(raw, max_bytes) for raw in batch)
            read += len(batch)
            start += len(batch)
    if waiting > read > 0:
        documents += round(documents / read * (waiting - read))
    return documents


def documents_in(raw: bytes | str, max_bytes: int | None = None) -> int:
    """How many document ids one queued message carries: 0 for anything a worker would refuse
    (the gate's own check, :func:`braillejobs.messages.task_arguments`)."""
    if max_bytes is None:
        max_bytes = config.get("max_message_bytes")
    found = task_arguments(raw, max_bytes=max_bytes)
    return 0 if found is None else len(found[1])
