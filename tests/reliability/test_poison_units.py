"""The message check and the dead-letter list on their own (no worker): every malformed kind is
refused with its reason, the messages the pinned Celery really sends are accepted, the check
never raises, and the list keeps, caps, finds, removes and requeues records in real Redis."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.reliability.poison import CASES, decode, encode, fresh_ids, mutations, real_message

from braillejobs import messages
from braillejobs.fleet import deadletters
from braillejobs.messages import KINDS, Refusal, inspect_broadcast, inspect_raw

MAX = 1024 * 1024


@pytest.fixture(scope="module")
def valid(fault_redis) -> bytes:
    return real_message(fault_redis.url, f"units-{uuid.uuid4().hex[:8]}")


def test_the_message_the_project_sends_is_accepted(valid):
    assert inspect_raw(valid, max_bytes=MAX, max_eta_seconds=3600) is None
    env = decode(valid)
    assert env["headers"]["task"] == messages.TRANSLATE_DOCUMENTS


def test_a_retry_and_a_redelivered_message_are_accepted(valid):
    """Celery's retry adds an eta, a parent and the origin property; kombu marks a message it
    put back after a worker died as redelivered. Both must pass."""
    env = fresh_ids(decode(valid))
    env["headers"].update(eta=(datetime.now(timezone.utc) + timedelta(seconds=90)).isoformat(),
                          retries=3, parent_id=env["headers"]["id"], ignore_result=True)
    env["properties"]["origin"] = "gen12@host"
    assert inspect_raw(encode(env), max_bytes=MAX, max_eta_seconds=3600) is None
    env["headers"]["redelivered"] = True
    env["properties"]["delivery_info"]["redelivered"] = True
    assert inspect_raw(encode(env), max_bytes=MAX, max_eta_seconds=3600) is None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_malformed_kind_is_refused_with_its_reason(case, valid):
    raw = case.make(fresh_ids(decode(valid)))
    refusal = inspect_raw(raw, max_bytes=MAX, max_eta_seconds=3600)
    assert isinstance(refusal, Refusal), f"{case.name} was accepted"
    assert refusal.kind == case.kind, refusal
    assert refusal.reason and "\x1b" not in refusal.reason and "\n" not in refusal.reason


def test_the_table_covers_every_kind_and_more_than_thirty_messages():
    assert len(CASES) >= 30
    assert {c.kind for c in CASES} == set(KINDS)


def test_the_check_never_raises_on_random_mutations(valid):
    """2,000 seeded mutations: each is accepted or refused with a known kind; and an accepted
    one still carries the translate task with well-typed arguments."""
    refused = 0
    for raw in mutations(valid, 2000, seed=20261202):
        refusal = inspect_raw(raw, max_bytes=MAX, max_eta_seconds=3600)
        if refusal is None:
            env = json.loads(raw)
            assert env["headers"]["task"] == messages.TRANSLATE_DOCUMENTS
            args, kwargs, _ = json.loads(base64.b64decode(env["body"]))
            assert messages.check_arguments(args, kwargs) is None
        else:
            assert refusal.kind in KINDS
            refused += 1
    assert refused > 1000  # most mutations break something


def test_eta_bound_follows_the_visibility_timeout(valid):
    env = fresh_ids(decode(valid))
    env["headers"]["eta"] = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert inspect_raw(encode(env), max_bytes=MAX, max_eta_seconds=3600).kind == "headers"
    assert inspect_raw(encode(env), max_bytes=MAX, max_eta_seconds=4 * 3600) is None


def test_size_is_refused_before_parsing():
    refusal = inspect_raw(b"x" * (MAX + 1), max_bytes=MAX)
    assert refusal.kind == "too_large" and "max_message_bytes" in refusal.reason


def test_broadcast_shape(valid):
    command = {"method": "ping", "arguments": {}, "destination": None, "pattern": None,
               "matcher": None, "ticket": "t",
               "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "k"}}
    env = {"body": base64.b64encode(json.dumps(command).encode()).decode(),
           "content-encoding": "utf-8", "content-type": "application/json",
           "headers": {"clock": 1, "expires": 1.5e9},
           "properties": {"delivery_mode": 2, "priority": 0, "body_encoding": "base64",
                          "delivery_tag": "d", "delivery_info": {"exchange": "celery.pidbox",
                                                                 "routing_key": ""}}}
    assert inspect_broadcast(encode(env), max_bytes=MAX) is None
    for bad in (b"5", b"{}", encode({**env, "headers": []}),
                encode({**env, "body": base64.b64encode(b'{"method": [1]}').decode()})):
        assert inspect_broadcast(bad, max_bytes=MAX) is not None


# ------------------------------------------------------------------------- the dead-letter list
@pytest.fixture
def client_and_list(fault_redis):
    client = fault_redis.client()
    name = f"dl-{uuid.uuid4().hex[:8]}"
    yield client, name
    client.delete(name, deadletters.messages_key(name))


def _letter(raw: bytes, kind="task", queue="q1", source="queue"):
    return deadletters.make_record(raw, Refusal(kind, f"because {kind}"), queue=queue,
                                   worker="w@h", source=source, max_bytes=MAX)


def test_records_keep_the_message_byte_for_byte_and_the_cap_drops_the_oldest(client_and_list):
    client, name = client_and_list
    stored = []
    for i in range(7):
        raw = b"\xff\x00 not utf-8 " + str(i).encode()
        letter, kept = _letter(raw)
        deadletters.push(client, letter, kept, name=name, keep=5)
        stored.append((letter, raw))
    listed = deadletters.entries(client, name)
    assert [d.id for d in listed] == [d.id for d, _ in reversed(stored[2:])]
    assert client.hlen(deadletters.messages_key(name)) == 5  # messages of dropped records go too
    newest, raw = stored[-1]
    assert deadletters.message(client, deadletters.find(client, newest.id[:6], name), name) == raw


def test_a_big_message_keeps_its_first_bytes_and_cannot_be_requeued(client_and_list):
    client, name = client_and_list
    raw = b"y" * (MAX + 10)
    letter, kept = _letter(raw, kind="too_large")
    assert letter.truncated and len(kept) == deadletters.PREVIEW_BYTES and letter.size == len(raw)
    deadletters.push(client, letter, kept, name=name)
    with pytest.raises(deadletters.DeadLetterError, match="first"):
        deadletters.requeue(client, letter, name=name)


def test_requeue_only_when_well_formed_and_atomically(client_and_list, valid):
    client, name = client_and_list
    env = fresh_ids(decode(valid))
    broken = dict(env, headers={**env["headers"], "timelimit": 5})
    letter, kept = _letter(encode(broken), kind="headers", queue="q-requeue")
    deadletters.push(client, letter, kept, name=name)
    with pytest.raises(deadletters.DeadLetterError, match="still not a well-formed"):
        deadletters.requeue(client, letter, name=name)
    assert deadletters.count(client, name) == 1
    key = deadletters.requeue(client, letter, replacement=encode(env), name=name)
    assert key.startswith("q-requeue") and client.lrange(key, 0, -1) == [encode(env)]
    assert deadletters.count(client, name) == 0
    assert client.hlen(deadletters.messages_key(name)) == 0
    with pytest.raises(deadletters.DeadLetterError, match="no longer"):
        deadletters.requeue(client, letter, replacement=encode(env), name=name)
    client.delete(key)


def test_broadcasts_are_never_requeued_and_foreign_entries_are_shown(client_and_list):
    client, name = client_and_list
    letter, kept = _letter(b"5", kind="envelope", queue="celery.pidbox", source="broadcast")
    deadletters.push(client, letter, kept, name=name)
    with pytest.raises(deadletters.DeadLetterError, match="broadcast"):
        deadletters.requeue(client, letter, name=name)
    client.lpush(name, b"\x1b]0;owned\x07")
    first = deadletters.entries(client, name)[0]
    assert first.kind == "unreadable"
    assert deadletters.remove(client, [first], name=name) == 1
    assert deadletters.counts_by_queue(client, name) == {"celery.pidbox": 1}
    assert deadletters.purge(client, name) == 1 and deadletters.count(client, name) == 0
