"""What a well-formed task message is, checked whole before a worker acts on it.

Anyone who can write to Redis can put anything in a queue's list. Celery's consumer trusts the
shape of what it pops: a ``task`` header that is a list, a ``timelimit`` that is a number or an
envelope that is not JSON raises inside it and ends the worker, and a message that was already
recorded as unacknowledged is put back at shutdown, so every worker that starts dies on it again.

:func:`inspect_raw` therefore checks the raw bytes popped from the list -- the envelope, its
headers, properties and delivery info, the encodings and content type, the task name and the body
with its arguments -- against the one message this system sends (Celery's task protocol 2 for
:data:`~braillejobs.queue.TRANSLATE_DOCUMENTS`, as :func:`braillejobs.queue.send_chunks` and
Celery's own retry write it). It returns ``None`` for that message and a :class:`Refusal`
otherwise; it never unpickles, imports or runs anything, and never raises.

Keys are allow-listed: a header Celery does not send is refused, so a Celery upgrade that changes
the protocol shows up in the tests (which send through the pinned Celery) instead of in a fleet.
Importing this module imports neither Celery nor torch.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

# The task name the queued messages carry (same constant as braillejobs.queue, which imports
# Celery; this module must not).
TRANSLATE_DOCUMENTS = "braillejobs.translate_documents"

# Refusal kinds: the label of braillejobs_dead_letters_total, so a short fixed list.
KINDS = ("too_large", "envelope", "encoding", "properties", "headers", "task", "body",
         "arguments")

MAX_JOB_ID = 64
MAX_ID_TEXT = 255  # task ids, delivery tags, reply queues
MAX_REPR = 64 * 1024  # argsrepr / kwargsrepr (Celery cuts them at about 1 KiB)
MAX_RETRIES = 100_000
CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Refusal:
    """Why a message is not accepted: ``kind`` (one of :data:`KINDS`) and a sentence."""
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class _Refused(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.refusal = Refusal(kind, reason)


def _refuse(kind: str, reason: str):
    raise _Refused(kind, reason)


def inspect_raw(raw: bytes | str, *, max_bytes: int, max_eta_seconds: float | None = None,
                now: datetime | None = None) -> Refusal | None:
    """``None`` when ``raw`` (one entry of a queue's Redis list) is a well-formed translate task
    message; otherwise the :class:`Refusal` that says why not.

    ``max_eta_seconds`` bounds how far in the future a message may ask to run (an ``eta`` past
    the visibility timeout would be redelivered while a worker still holds it)."""
    try:
        envelope = _envelope(raw, max_bytes)
        _properties(envelope["properties"])
        headers = envelope["headers"]
        _headers(headers, max_eta_seconds, now or datetime.now(timezone.utc))
        _body(envelope["body"])
    except _Refused as refused:
        return refused.refusal
    except RecursionError:
        return Refusal("envelope", "nested too deeply to be a task message")
    except Exception as exc:  # a check that itself failed must refuse, never crash the worker
        return Refusal("envelope", f"cannot be checked ({exc.__class__.__name__})")
    return None


def task_arguments(raw: bytes | str, *, max_bytes: int) -> tuple[str, list[int]] | None:
    """The job id and document ids that a well-formed translate task message carries (None for
    anything else: such a message is not this system's to count or remove)."""
    if inspect_raw(raw, max_bytes=max_bytes) is not None:
        return None
    args, _kwargs, _embed = _json_body(json.loads(raw)["body"])   # checked: [job_id, ids]
    return args[0], list(args[1])


def inspect_broadcast(raw: bytes | str, *, max_bytes: int) -> Refusal | None:
    """``None`` when ``raw`` (a message published on a fanout channel the worker listens to:
    Celery's remote control) has the shape of a remote-control command; otherwise why not.
    What the command asks is Celery's to judge; only its shape is checked here."""
    try:
        envelope = _envelope(raw, max_bytes)
        _properties(envelope["properties"])
        _typed(envelope["headers"], _BROADCAST_HEADER_TYPES, "headers", "header")
        command = _json_body(envelope["body"])
        if not isinstance(command, dict):
            _refuse("body", "a remote-control command is a JSON object")
        _typed(command, _COMMAND_TYPES, "body", "command key", required=("method",))
        if isinstance(command.get("destination"), list) and \
                not all(isinstance(d, str) for d in command["destination"]):
            _refuse("body", "the destination must be a list of worker names")
        reply_to = command.get("reply_to")
        if isinstance(reply_to, dict):
            _typed(reply_to, _DELIVERY_INFO_TYPES, "body", "reply_to key",
                   required=("exchange", "routing_key"))
    except _Refused as refused:
        return refused.refusal
    except RecursionError:
        return Refusal("envelope", "nested too deeply to be a message")
    except Exception as exc:
        return Refusal("envelope", f"cannot be checked ({exc.__class__.__name__})")
    return None


def check_arguments(args: Any, kwargs: Any) -> str | None:
    """``None`` when ``args``/``kwargs`` are what the translate task takes: (job id, [ids])."""
    if not isinstance(args, list) or len(args) != 2:
        return "arguments must be [job_id, [document ids]]"
    if kwargs not in (None, {}):
        return "no keyword arguments are taken"
    job_id, ids = args
    if not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_JOB_ID:
        return f"the job id must be a string of 1 to {MAX_JOB_ID} characters"
    if not isinstance(ids, list) or not ids:
        return "the document ids must be a non-empty list"
    if not all(type(i) is int and 0 < i < 2**63 for i in ids):
        return "the document ids must be positive 64-bit integers"
    return None


# ------------------------------------------------------------------------------- the parts
_ENVELOPE_KEYS = {"body", "content-encoding", "content-type", "headers", "properties"}


def _envelope(raw: bytes | str, max_bytes: int) -> dict:
    size = len(raw)
    if size > max_bytes:
        _refuse("too_large", f"{size:,} bytes, more than the {max_bytes:,} a task message may "
                "have (setting max_message_bytes)")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _refuse("envelope", f"the envelope is not UTF-8 text (byte {exc.start})")
    try:
        envelope = json.loads(raw, parse_constant=_no_constant)
    except _Refused:
        raise
    except ValueError as exc:
        _refuse("envelope", f"the envelope is not JSON ({_short(exc)})")
    if not isinstance(envelope, dict):
        _refuse("envelope", f"the envelope is a JSON {_json_type(envelope)}, not an object")
    missing = sorted(_ENVELOPE_KEYS - envelope.keys())
    if missing:
        _refuse("envelope", f"the envelope has no {', '.join(missing)}")
    extra = sorted(envelope.keys() - _ENVELOPE_KEYS)
    if extra:
        _refuse("envelope", f"the envelope has unknown keys {_names(extra)}")
    if envelope["content-type"] != "application/json":
        _refuse("encoding", f"content type {_show(envelope['content-type'])} is not "
                "application/json (only JSON is accepted; pickle and YAML never are)")
    if envelope["content-encoding"] != "utf-8":
        _refuse("encoding", f"content encoding {_show(envelope['content-encoding'])} is not "
                "utf-8")
    if not isinstance(envelope["headers"], dict):
        _refuse("headers", f"headers are a JSON {_json_type(envelope['headers'])}, not an "
                "object")
    if not isinstance(envelope["properties"], dict):
        _refuse("properties", f"properties are a JSON {_json_type(envelope['properties'])}, "
                "not an object")
    if not isinstance(envelope["body"], str):
        _refuse("body", f"the body is a JSON {_json_type(envelope['body'])}, not base64 text")
    return envelope


_PROPERTY_TYPES = {
    "correlation_id": (str, type(None)),
    "reply_to": (str, type(None)),
    "origin": (str, type(None)),  # Celery's retry puts the sender's node name here too
    "delivery_mode": (int,),
    "delivery_info": (dict,),
    "priority": (int,),
    "body_encoding": (str,),
    "delivery_tag": (str,),
}
_DELIVERY_INFO_TYPES = {"exchange": (str,), "routing_key": (str,), "redelivered": (bool,)}


def _properties(props: dict) -> None:
    _typed(props, _PROPERTY_TYPES, "properties", "property",
           required=("body_encoding", "delivery_tag", "delivery_info"))
    if props["body_encoding"] != "base64":
        _refuse("properties", f"body_encoding {_show(props['body_encoding'])} is not base64")
    if not 0 < len(props["delivery_tag"]) <= MAX_ID_TEXT:
        _refuse("properties", f"delivery_tag must be 1 to {MAX_ID_TEXT} characters")
    for key in ("correlation_id", "reply_to", "origin"):
        if isinstance(props.get(key), str) and len(props[key]) > MAX_ID_TEXT:
            _refuse("properties", f"{key} is longer than {MAX_ID_TEXT} characters")
    if "delivery_mode" in props and props["delivery_mode"] not in (1, 2):
        _refuse("properties", f"delivery_mode {_show(props['delivery_mode'])} is not 1 or 2")
    if "priority" in props and not 0 <= props["priority"] <= 255:
        _refuse("properties", f"priority {props['priority']} is not between 0 and 255")
    info = props["delivery_info"]
    _typed(info, _DELIVERY_INFO_TYPES, "properties", "delivery_info key",
           required=("exchange", "routing_key"))
    if len(info["exchange"]) > MAX_ID_TEXT or len(info["routing_key"]) > MAX_ID_TEXT:
        _refuse("properties", f"delivery_info names longer than {MAX_ID_TEXT} characters")


_OPTIONAL_TEXT = (str, type(None))
_HEADER_TYPES = {
    "lang": (str,),
    "task": (str,),
    "id": (str,),
    "shadow": _OPTIONAL_TEXT,
    "eta": _OPTIONAL_TEXT,
    "expires": _OPTIONAL_TEXT,
    "group": _OPTIONAL_TEXT,
    "group_index": (int, type(None)),
    "retries": (int,),
    "timelimit": (list,),
    "root_id": _OPTIONAL_TEXT,
    "parent_id": _OPTIONAL_TEXT,
    "argsrepr": _OPTIONAL_TEXT,
    "kwargsrepr": _OPTIONAL_TEXT,
    "origin": _OPTIONAL_TEXT,
    "ignore_result": (bool, type(None)),
    "replaced_task_nesting": (int,),
    "stamped_headers": (list, type(None)),
    "stamps": (dict, type(None)),
    "redelivered": (bool,),  # set by kombu when it puts an unacknowledged message back
}


def _headers(headers: dict, max_eta_seconds: float | None, now: datetime) -> None:
    if "task" not in headers:
        _refuse("task", "no task header (Celery's protocol 1 is not accepted)")
    task = headers["task"]
    if not isinstance(task, str):
        _refuse("task", f"the task header is a JSON {_json_type(task)}, not a task name")
    if task != TRANSLATE_DOCUMENTS:
        what = "Celery's built-in task" if task.startswith("celery.") else "the task"
        _refuse("task", f"{what} {_show(task)} is not accepted; only {TRANSLATE_DOCUMENTS} "
                "runs here")
    _typed(headers, _HEADER_TYPES, "headers", "header", required=("lang", "id"))
    if headers["lang"] != "py":
        _refuse("headers", f"lang {_show(headers['lang'])} is not py")
    for key in ("id", "root_id", "parent_id", "group", "shadow", "origin"):
        value = headers.get(key)
        if isinstance(value, str) and len(value) > MAX_ID_TEXT:
            _refuse("headers", f"{key} is longer than {MAX_ID_TEXT} characters")
    for key in ("id", "root_id", "parent_id", "group", "shadow", "origin", "argsrepr",
                "kwargsrepr"):
        value = headers.get(key)
        if isinstance(value, str) and not value.isprintable():
            # Celery writes these into its log lines: no terminal escapes through them
            _refuse("headers", f"{key} holds control characters")
    if not headers["id"]:
        _refuse("headers", "the task id is empty")
    for key in ("argsrepr", "kwargsrepr"):
        if isinstance(headers.get(key), str) and len(headers[key]) > MAX_REPR:
            _refuse("headers", f"{key} is longer than {MAX_REPR:,} characters")
    for key, top in (("retries", MAX_RETRIES), ("replaced_task_nesting", 100),
                     ("group_index", 2**31)):
        value = headers.get(key)
        if value is not None and not 0 <= value <= top:
            _refuse("headers", f"{key} {value} is not between 0 and {top:,}")
    if "timelimit" in headers:
        limits = headers["timelimit"]
        if len(limits) != 2 or not all(
                v is None or (type(v) in (int, float) and 0 <= v < 10**9) for v in limits):
            _refuse("headers", "timelimit must be [hard, soft], each a number of seconds or "
                    "null")
    if headers.get("stamped_headers") or headers.get("stamps"):
        _refuse("headers", "stamped messages are not accepted")
    eta = _when(headers, "eta")
    _when(headers, "expires")
    if eta is not None and max_eta_seconds is not None:
        if eta.tzinfo is None:
            eta = eta.replace(tzinfo=timezone.utc)
        if eta - now > timedelta(seconds=max_eta_seconds) + CLOCK_SKEW:
            _refuse("headers", f"eta {headers['eta']} is further away than the visibility "
                    f"timeout ({max_eta_seconds:.0f} s): Redis would hand it out again while a "
                    "worker holds it")


def _when(headers: dict, key: str) -> datetime | None:
    value = headers.get(key)
    if value is None:
        return None
    from dateutil.parser import isoparse  # the parser Celery uses for these headers

    try:
        return isoparse(value)
    except (ValueError, OverflowError, TypeError) as exc:
        _refuse("headers", f"{key} {_show(value)} is not an ISO 8601 time ({_short(exc)})")


_BROADCAST_HEADER_TYPES = {"clock": (int,), "expires": (int, float, type(None))}
_COMMAND_TYPES = {
    "method": (str,), "arguments": (dict, type(None)), "destination": (list, type(None)),
    "pattern": _OPTIONAL_TEXT, "matcher": _OPTIONAL_TEXT, "ticket": _OPTIONAL_TEXT,
    "reply_to": (dict, type(None)),
}
_EMBED_KEYS = {"callbacks", "errbacks", "chain", "chord"}


def _json_body(text: str) -> Any:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        _refuse("body", f"the body is not valid base64 ({_short(exc)})")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except _Refused:
        raise
    except UnicodeDecodeError:
        _refuse("body", "the decoded body is not UTF-8 text")
    except ValueError as exc:
        _refuse("body", f"the decoded body is not JSON ({_short(exc)})")


def _body(text: str) -> None:
    payload = _json_body(text)
    if not isinstance(payload, list) or len(payload) != 3:
        _refuse("body", "the body is not an [args, kwargs, embed] triple")
    args, kwargs, embed = payload
    if not isinstance(embed, dict) or not embed.keys() <= _EMBED_KEYS:
        _refuse("body", "the body's third part is not Celery's embed mapping")
    if any(embed.get(k) is not None for k in _EMBED_KEYS):
        _refuse("body", "callbacks, errbacks, chains and chords are not accepted")
    problem = check_arguments(args, kwargs)
    if problem:
        _refuse("arguments", problem)


# --------------------------------------------------------------------------------- helpers
def _typed(mapping: dict, types: dict, kind: str, noun: str, required=()) -> None:
    missing = [k for k in required if k not in mapping]
    if missing:
        _refuse(kind, f"no {noun} {_names(missing)}")
    unknown = sorted(str(k) for k in mapping.keys() - types.keys())
    if unknown:
        _refuse(kind, f"unknown {noun} {_names(unknown)}" if len(unknown) == 1 else
                f"unknown {noun}s {_names(unknown)}")
    for key, value in mapping.items():
        allowed = types[key]
        # bool is an int to Python; a flag is never a count here, nor a count a flag
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            _refuse(kind, f"{noun} {key} is a JSON {_json_type(value)}, not "
                    f"{' or '.join(_TYPE_NAMES[t] for t in allowed)}")


_TYPE_NAMES = {str: "text", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "an object", type(None): "null"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _no_constant(name: str):
    _refuse("envelope", f"{name} is not JSON")


def _show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _names(keys) -> str:
    keys = list(keys)
    shown = ", ".join(_show(k, 40) for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return json.dumps(text[:120])[1:-1]  # escaped: it may quote the message
