"""Messages are checked before Celery takes them apart.

Anything can be written to a Redis list. Celery refuses content types other than JSON itself, but
a JSON body of the wrong shape (a dict where a ``[args, kwargs, embed]`` triple belongs) raises
inside its consumer and ends the worker ("Unrecoverable error"). This strategy, set on the
translate task, checks the shape and the argument types of every message first and discards a
malformed one with a log line; a good message goes on to Celery's default strategy unchanged.
"""

from __future__ import annotations

import logging

from celery.worker.strategy import default
from kombu.exceptions import ContentDisallowed

log = logging.getLogger("braillejobs.worker")

MAX_IDS = 1_000_000
MAX_JOB_ID = 64


def check_arguments(args, kwargs) -> str | None:
    """None when ``args``/``kwargs`` are what the translate task takes: (job id, [ids])."""
    if not isinstance(args, (list, tuple)) or len(args) != 2:
        return "arguments must be [job_id, [document ids]]"
    if kwargs not in (None, {}):
        return "no keyword arguments are taken"
    job_id, ids = args
    if not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_JOB_ID:
        return "the job id must be a short string"
    if not isinstance(ids, list) or len(ids) > MAX_IDS:
        return "the document ids must be a list"
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
        return "the document ids must be positive integers"
    return None


def check_message(message, body) -> str | None:
    if body is not None:  # protocol 1: Celery decoded the body already
        if not isinstance(body, dict):
            return "the body is not a task message"
        return check_arguments(body.get("args"), body.get("kwargs"))
    payload = message.decode()  # JSON only: other content types raise ContentDisallowed
    if isinstance(payload, dict) and "args" in payload:
        return check_arguments(payload.get("args"), payload.get("kwargs"))
    if not isinstance(payload, (list, tuple)) or len(payload) != 3:
        return "the body is not an [args, kwargs, embed] triple"
    args, kwargs, embed = payload
    if not isinstance(embed, dict):
        return "the body is not an [args, kwargs, embed] triple"
    return check_arguments(args, kwargs)


def strategy(task, app, consumer, **kwargs):
    handler = default(task, app, consumer, **kwargs)

    def guarded(message, body, ack, reject, callbacks, **kw):
        try:
            reason = check_message(message, body)
        except ContentDisallowed:
            raise  # Celery refuses it and says why
        except Exception as exc:
            reason = f"the body cannot be decoded ({exc.__class__.__name__})"
        if reason is not None:
            headers = message.headers if isinstance(message.headers, dict) else {}
            log.error("discarding a malformed %s message (id %r): %s", task.name,
                      str(headers.get("id"))[:64], reason)
            message.reject_log_error(log, consumer.connection_errors, requeue=False)
            return None
        return handler(message, body, ack, reject, callbacks, **kw)

    return guarded
