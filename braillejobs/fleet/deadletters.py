"""The dead-letter list: messages a worker refused to run, kept in Redis for an operator.

A worker moves every message that :mod:`braillejobs.messages` refuses to the Redis list named
by the ``dead_letter_list`` setting, newest first, as one small JSON record::

    {"id": "9f2c41d0a8e61b37", "time": "2026-12-02T06:48:59.123456+00:00",
     "queue": "translate", "source": "queue", "kind": "headers", "reason": "...",
     "worker": "braillejobs-12@host", "size": 812, "sha256": "...", "truncated": false}

and the message itself, byte for byte as it was popped, in the hash ``<list>:messages`` under
the record's id. ``source`` is ``queue`` for a message taken from a queue's list and
``broadcast`` for one published on a fanout channel (remote control). A message over
``max_message_bytes`` keeps only its first :data:`PREVIEW_BYTES` (``truncated``). The list holds
at most ``dead_letter_max`` records; the oldest go first, with their messages.

``braillejobs dead-letters`` lists, shows, purges and requeues them; requeueing checks the
message again, so only one that is now well-formed goes back to its queue. Nothing here
unpickles or runs a message. Functions take a redis-py client; importing this module imports
neither Celery nor torch.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from .. import config
from ..messages import Refusal, inspect_raw

PREVIEW_BYTES = 64 * 1024
SOURCES = ("queue", "broadcast")

# Push a record and its message; drop the oldest records (and their messages) beyond the cap.
_PUSH = """
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local dropped = 0
while redis.call('LLEN', KEYS[1]) > tonumber(ARGV[4]) do
  local old = redis.call('RPOP', KEYS[1])
  local ok, record = pcall(cjson.decode, old)
  if ok and type(record) == 'table' and type(record['id']) == 'string' then
    redis.call('HDEL', KEYS[2], record['id'])
  end
  dropped = dropped + 1
end
return dropped
"""


class DeadLetterError(RuntimeError):
    """A dead-letter operation cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class DeadLetter:
    id: str
    time: str
    queue: str
    source: str
    kind: str
    reason: str
    worker: str
    size: int
    sha256: str
    truncated: bool

    def as_dict(self) -> dict:
        return asdict(self)


def list_name() -> str:
    return config.get("dead_letter_list")


def messages_key(name: str) -> str:
    return f"{name}:messages"


def make_record(raw: bytes, refusal: Refusal, *, queue: str, worker: str,
                source: str = "queue", max_bytes: int | None = None,
                when: datetime | None = None) -> tuple[DeadLetter, bytes]:
    """The record kept for ``raw``, and the bytes of it that are kept."""
    max_bytes = config.get("max_message_bytes") if max_bytes is None else max_bytes
    kept = raw if len(raw) <= max_bytes else raw[:PREVIEW_BYTES]
    letter = DeadLetter(
        id=uuid.uuid4().hex[:16], time=(when or datetime.now(timezone.utc)).isoformat(),
        queue=queue, source=source, kind=refusal.kind, reason=refusal.reason, worker=worker,
        size=len(raw), sha256=hashlib.sha256(raw).hexdigest(), truncated=len(kept) < len(raw))
    return letter, kept


def push(client, letter: DeadLetter, message: bytes, *, name: str | None = None,
         keep: int | None = None) -> int:
    """Store ``letter`` at the head of the list with its message, atomically; returns how many
    old records were dropped to stay within ``keep``."""
    name = name or list_name()
    keep = config.get("dead_letter_max") if keep is None else keep
    return int(client.eval(_PUSH, 2, name, messages_key(name), letter.id, _encode(letter),
                           message, max(1, keep)))


def entries(client, name: str | None = None, limit: int | None = None) -> list[DeadLetter]:
    """The records, newest first (at most ``limit``)."""
    if limit is not None and limit <= 0:
        return []
    stop = -1 if limit is None else limit - 1
    return [_decode(item) for item in client.lrange(name or list_name(), 0, stop)]


def count(client, name: str | None = None) -> int:
    return int(client.llen(name or list_name()))


def counts_by_queue(client, name: str | None = None) -> Counter:
    """Dead letters by the queue (or broadcast channel) they came from."""
    return Counter(letter.queue for letter in entries(client, name))


def find(client, letter_id: str, name: str | None = None) -> DeadLetter:
    """The record whose id is, or starts with, ``letter_id``."""
    name = name or list_name()
    wanted = letter_id.strip().lower()
    if not wanted:
        raise DeadLetterError("give the id of a dead letter (`braillejobs dead-letters list` "
                              "shows them)")
    found = [e for e in entries(client, name) if e.id.startswith(wanted)]
    exact = [e for e in found if e.id == wanted]
    if exact:
        return exact[0]
    if not found:
        raise DeadLetterError(f"no dead letter {letter_id!r} in {name} (`braillejobs "
                              "dead-letters list` shows them)")
    if len(found) > 1:
        raise DeadLetterError(f"{letter_id!r} starts {len(found)} dead-letter ids; give more "
                              "of the id")
    return found[0]


def message(client, letter: DeadLetter, name: str | None = None) -> bytes:
    """The message of ``letter``, as it was popped (its first bytes when truncated)."""
    raw = client.hget(messages_key(name or list_name()), letter.id)
    if raw is None:
        raise DeadLetterError(f"the message of dead letter {letter.id} is missing from "
                              f"{messages_key(name or list_name())}")
    return raw


def remove(client, letters: list[DeadLetter], name: str | None = None) -> int:
    """Delete these records and their messages; returns how many were still there."""
    name = name or list_name()
    raw_records = {bytes(r) for r in client.lrange(name, 0, -1)}
    with client.pipeline(transaction=True) as pipe:
        removed = 0
        for letter in letters:
            for record in raw_records:
                if _decode(record).id == letter.id:
                    pipe.lrem(name, 1, record)
                    removed += 1
            pipe.hdel(messages_key(name), letter.id)
        pipe.execute()
    return removed


def purge(client, name: str | None = None) -> int:
    """Delete every record and message; returns how many records there were."""
    name = name or list_name()
    with client.pipeline(transaction=True) as pipe:
        pipe.llen(name)
        pipe.delete(name, messages_key(name))
        return int(pipe.execute()[0])


def requeue(client, letter: DeadLetter, *, replacement: bytes | None = None,
            name: str | None = None) -> str:
    """Put the message of ``letter`` (or ``replacement``, a corrected copy) back on the queue it
    came from, only if it passes the workers' check now; the record leaves the list in the same
    transaction. Returns the Redis list it went to."""
    from ..queue import queue_key

    name = name or list_name()
    if letter.source != "queue":
        raise DeadLetterError(f"dead letter {letter.id} was a {letter.source} on {letter.queue}, "
                              "not a queued task; it cannot be requeued (purge it)")
    if replacement is None and letter.truncated:
        raise DeadLetterError(f"dead letter {letter.id} kept only the first {PREVIEW_BYTES:,} "
                              f"of its {letter.size:,} bytes; it cannot be requeued (purge it)")
    raw = message(client, letter, name) if replacement is None else replacement
    refusal = inspect_raw(raw, max_bytes=config.get("max_message_bytes"),
                          max_eta_seconds=config.get("visibility_timeout"))
    if refusal is not None:
        raise DeadLetterError(
            f"dead letter {letter.id} is still not a well-formed task message ({refusal}); "
            f"`braillejobs dead-letters show {letter.id} --raw > FILE` writes it out, and "
            f"`braillejobs dead-letters requeue {letter.id} --message FILE` sends a corrected "
            "copy")
    key = queue_key(letter.queue, json.loads(raw)["properties"].get("priority", 0))

    def move(pipe):
        records = [r for r in pipe.lrange(name, 0, -1) if _decode(r).id == letter.id]
        if not records:
            raise DeadLetterError(f"dead letter {letter.id} is no longer in {name} (requeued "
                                  "or purged meanwhile)")
        pipe.multi()
        pipe.lrem(name, 1, records[0])
        pipe.hdel(messages_key(name), letter.id)
        pipe.lpush(key, raw)

    client.transaction(move, name)
    return key


def _encode(letter: DeadLetter) -> str:
    return json.dumps(letter.as_dict(), ensure_ascii=False)


def _decode(item: bytes) -> DeadLetter:
    try:
        fields = json.loads(item)
        if not isinstance(fields, dict):
            raise TypeError("not an object")
        return DeadLetter(
            id=str(fields["id"]), time=str(fields.get("time", "")),
            queue=str(fields.get("queue", "")), source=str(fields.get("source", "queue")),
            kind=str(fields.get("kind", "")), reason=str(fields.get("reason", "")),
            worker=str(fields.get("worker", "")), size=int(fields.get("size", 0)),
            sha256=str(fields.get("sha256", "")), truncated=bool(fields.get("truncated")))
    except (ValueError, TypeError, KeyError):
        # Written into the list by something other than a worker: shown, never trusted.
        digest = hashlib.sha256(item).hexdigest()
        return DeadLetter(id="x" + digest[:15], time="", queue="", source="unknown",
                          kind="unreadable", reason="this entry of the list is not a "
                          "dead-letter record", worker="", size=len(item), sha256=digest,
                          truncated=False)
