"""Malformed queue messages: the table of hand-made kinds and a seeded mutator of a valid one.

Everything starts from a real message: :func:`real_message` has the project's own producer
(``braillejobs.queue.send_chunks``, on the pinned Celery and kombu) write one to Redis and takes
it back off the list raw. Each case of :data:`CASES` changes one thing of it and names the kind
of refusal a worker must record (:data:`braillejobs.messages.KINDS`).
"""

from __future__ import annotations

import base64
import copy
import json
import pickle
import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from tests.support import settings

NORMAL_PRIORITY = 3


def real_message(broker_url: str, queue: str, job_id: str = "nojob",
                 ids: list[int] | None = None) -> bytes:
    """One message exactly as ``send_chunks`` queues it, popped raw from Redis."""
    import redis

    from braillejobs.queue import queue_key, send_chunks

    with settings(broker_url=broker_url, queue=queue):
        send_chunks(job_id, [ids or [1]], "normal")
    client = redis.Redis.from_url(broker_url)
    raw = client.rpop(queue_key(queue, NORMAL_PRIORITY))
    assert raw is not None, "the producer's message did not reach Redis"
    return raw


def decode(raw: bytes) -> dict:
    return json.loads(raw)


def encode(envelope: Any) -> bytes:
    return json.dumps(envelope).encode()


def body_of(payload: Any) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def fresh_ids(envelope: dict) -> dict:
    """A copy with a new task id and delivery tag, as a second send would have."""
    env = copy.deepcopy(envelope)
    task_id = str(uuid.uuid4())
    env["headers"].update(id=task_id, root_id=task_id)
    env["properties"].update(correlation_id=task_id, delivery_tag=str(uuid.uuid4()))
    return env


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # the refusal kind the worker must record
    make: Callable[[dict], bytes]  # from a fresh copy of the real envelope to raw bytes


def _set(path: str, value: Any) -> Callable[[dict], bytes]:
    def make(env: dict) -> bytes:
        *parents, last = path.split(".")
        node = env
        for p in parents:
            node = node[p]
        node[last] = value
        return encode(env)
    return make


def _drop(path: str) -> Callable[[dict], bytes]:
    def make(env: dict) -> bytes:
        *parents, last = path.split(".")
        node = env
        for p in parents:
            node = node[p]
        del node[last]
        return encode(env)
    return make


def _body(payload: Any) -> Callable[[dict], bytes]:
    return _set("body", body_of(payload))


def _raw(data: bytes) -> Callable[[dict], bytes]:
    return lambda env: data


def _pickle_body(env: dict) -> bytes:
    env["content-type"] = "application/x-python-serialize"
    env["content-encoding"] = "binary"
    env["body"] = base64.b64encode(pickle.dumps(((), {}, {}))).decode()
    return encode(env)


def _builtin(task: str, payload: Any) -> Callable[[dict], bytes]:
    def make(env: dict) -> bytes:
        env["headers"]["task"] = task
        env["body"] = body_of(payload)
        return encode(env)
    return make


def _protocol_1(env: dict) -> bytes:
    del env["headers"]["task"]
    env["body"] = body_of({"task": "braillejobs.translate_documents", "id": "x",
                           "args": ["nojob", [1]], "kwargs": {}})
    return encode(env)


def _oversized(env: dict) -> bytes:
    env["headers"]["argsrepr"] = "x" * (2 * 1024 * 1024)
    return encode(env)


def _deep(env: dict) -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
GOOD_ARGS = ["nojob", [1]]

CASES: list[Case] = [
    # the envelope
    Case("envelope not JSON", "envelope", _raw(b"{not json")),
    Case("envelope empty", "envelope", _raw(b"")),
    Case("envelope a number", "envelope", _raw(b"42")),
    Case("envelope a list", "envelope", _raw(b'[{"body": ""}]')),
    Case("envelope a string", "envelope", _raw(b'"hello"')),
    Case("envelope null", "envelope", _raw(b"null")),
    Case("envelope not UTF-8", "envelope", _raw(b'{"body": "\xff\xfe"}')),
    Case("envelope with NaN", "envelope", lambda env: encode(env).replace(
        b'"retries": 0', b'"retries": NaN')),
    Case("envelope nested 100,000 deep", "envelope", _deep),
    Case("envelope without body", "envelope", _drop("body")),
    Case("envelope without headers", "envelope", _drop("headers")),
    Case("envelope without properties", "envelope", _drop("properties")),
    Case("envelope with an unknown key", "envelope", _set("exec", "rm -rf /")),
    Case("envelope without content-type", "envelope", _drop("content-type")),
    Case("message over the size limit", "too_large", _oversized),
    # encodings and content types
    Case("pickle body", "encoding", _pickle_body),
    Case("YAML content type", "encoding", _set("content-type", "application/x-yaml")),
    Case("msgpack content type", "encoding", _set("content-type", "application/x-msgpack")),
    Case("text/plain content type", "encoding", _set("content-type", "text/plain")),
    Case("content type a list", "encoding", _set("content-type", ["application/json"])),
    Case("binary content encoding", "encoding", _set("content-encoding", "binary")),
    Case("content encoding null", "encoding", _set("content-encoding", None)),
    # properties and delivery info
    Case("properties a list", "properties", _set("properties", [])),
    Case("properties a string", "properties", _set("properties", "p")),
    Case("delivery_tag null", "properties", _set("properties.delivery_tag", None)),
    Case("delivery_tag missing", "properties", _drop("properties.delivery_tag")),
    Case("delivery_tag a number", "properties", _set("properties.delivery_tag", 7)),
    Case("delivery_tag empty", "properties", _set("properties.delivery_tag", "")),
    Case("delivery_info a list", "properties", _set("properties.delivery_info", ["x"])),
    Case("delivery_info without routing_key", "properties",
         _drop("properties.delivery_info.routing_key")),
    Case("body_encoding identity", "properties", _set("properties.body_encoding", "identity")),
    Case("priority a string", "properties", _set("properties.priority", "high")),
    Case("priority 1000", "properties", _set("properties.priority", 1000)),
    Case("delivery_mode 7", "properties", _set("properties.delivery_mode", 7)),
    Case("unknown property", "properties", _set("properties.x_exec", 1)),
    # the task name
    Case("task header a list", "task", _set("headers.task", ["a"])),
    Case("task header a mapping", "task", _set("headers.task", {"a": 1})),
    Case("task header null", "task", _set("headers.task", None)),
    Case("protocol 1 message", "task", _protocol_1),
    Case("unknown task name", "task", _set("headers.task", "os.system")),
    Case("celery.accumulate with a number body", "task", _builtin("celery.accumulate", 5)),
    Case("celery.chord_unlock", "task", _builtin("celery.chord_unlock",
                                                 [["g", []], {}, EMBED])),
    Case("celery.backend_cleanup", "task", _builtin("celery.backend_cleanup", [[], {}, EMBED])),
    # the other headers
    Case("headers a list", "headers", _set("headers", [])),
    Case("headers null", "headers", _set("headers", None)),
    Case("timelimit a number", "headers", _set("headers.timelimit", 5)),
    Case("timelimit of three", "headers", _set("headers.timelimit", [1, 2, 3])),
    Case("timelimit negative", "headers", _set("headers.timelimit", [-1, None])),
    Case("retries a string", "headers", _set("headers.retries", "1")),
    Case("retries true", "headers", _set("headers.retries", True)),
    Case("task id null", "headers", _set("headers.id", None)),
    Case("task id missing", "headers", _drop("headers.id")),
    Case("lang js", "headers", _set("headers.lang", "js")),
    Case("eta not a time", "headers", _set("headers.eta", "next tuesday")),
    Case("eta a number", "headers", _set("headers.eta", 1700000000)),
    Case("eta in the year 2999", "headers", _set("headers.eta", "2999-01-01T00:00:00+00:00")),
    Case("expires not a time", "headers", _set("headers.expires", "soon")),
    Case("unknown header", "headers", _set("headers.exec", "x")),
    Case("stamped message", "headers", _set("headers.stamps", {"a": ["b"]})),
    Case("argsrepr a list", "headers", _set("headers.argsrepr", ["x"])),
    Case("task id with a terminal escape", "headers", _set("headers.id", "\x1b]0;owned\x07")),
    # the body
    Case("body not base64", "body", _set("body", "!!! not base64 !!!")),
    Case("body base64 of garbage", "body", _set("body", base64.b64encode(b"\x80\x00").decode())),
    Case("body base64 of non-JSON", "body", _set("body", base64.b64encode(b"{oops").decode())),
    Case("body a number", "body", _set("body", 5)),
    Case("body a mapping, not a triple", "body", _body({"args": GOOD_ARGS})),
    Case("body a pair", "body", _body([GOOD_ARGS, {}])),
    Case("body embed a list", "body", _body([GOOD_ARGS, {}, []])),
    Case("body with a callback", "body", _body([GOOD_ARGS, {}, {
        **EMBED, "callbacks": [{"task": "celery.accumulate", "args": [], "kwargs": {}}]}])),
    Case("body with a chain", "body", _body([GOOD_ARGS, {}, {**EMBED, "chain": [{}]}])),
    # the arguments
    Case("arguments empty", "arguments", _body([[], {}, EMBED])),
    Case("arguments a mapping", "arguments", _body([{"job": 1}, {}, EMBED])),
    Case("ids not a list", "arguments", _body([["nojob", "notalist"], {}, EMBED])),
    Case("ids of strings", "arguments", _body([["nojob", ["a"]], {}, EMBED])),
    Case("ids negative", "arguments", _body([["nojob", [-3]], {}, EMBED])),
    Case("ids past 64 bits", "arguments", _body([["nojob", [10**30]], {}, EMBED])),
    Case("ids as booleans", "arguments", _body([["nojob", [True]], {}, EMBED])),
    Case("job id a number", "arguments", _body([[123, [1]], {}, EMBED])),
    Case("job id too long", "arguments", _body([["x" * 100, [1]], {}, EMBED])),
    Case("keyword arguments", "arguments", _body([GOOD_ARGS, {"path": "/etc"}, EMBED])),
    Case("three arguments", "arguments", _body([["nojob", [1], "extra"], {}, EMBED])),
]


# ------------------------------------------------------------------------------- the fuzzer
_ODD_VALUES: list[Any] = [None, True, False, 0, -1, 2**70, 1.5, 1e308, "", "x", "\x00\x1b[2J",
                          [], [1, "a"], {}, {"k": None}, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢" * 3]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


def _mutate_tree(tree: Any, rng: random.Random) -> Any:
    tree = copy.deepcopy(tree)
    paths = _paths(tree)
    if not paths:
        return rng.choice(_ODD_VALUES)
    path = rng.choice(paths)
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.random()
    if action < 0.25 and isinstance(parent, dict):
        del parent[last]
    elif action < 0.35 and isinstance(parent, dict):
        parent[rng.choice(["x", "exec", "__class__", "task", "eta"])] = \
            rng.choice(_ODD_VALUES)
    elif action < 0.45 and isinstance(parent, list):
        parent.append(rng.choice(_ODD_VALUES))
    else:
        parent[last] = rng.choice(_ODD_VALUES)
    return tree


def mutations(valid: bytes, count: int, seed: int) -> list[bytes]:
    """``count`` random mutations of ``valid``, the same for the same seed: a value of the
    envelope or of the decoded body replaced, deleted or added, or bytes of the raw text
    flipped, cut or repeated."""
    rng = random.Random(seed)
    envelope = decode(valid)
    payload = json.loads(base64.b64decode(envelope["body"]))
    out: list[bytes] = []
    while len(out) < count:
        choice = rng.random()
        env = fresh_ids(envelope)
        if choice < 0.4:
            out.append(encode(_mutate_tree(env, rng)))
        elif choice < 0.75:
            env["body"] = body_of(_mutate_tree(payload, rng))
            out.append(encode(env))
        else:
            data = bytearray(encode(env))
            op = rng.random()
            if op < 0.4:
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif op < 0.7:
                data = data[:rng.randrange(len(data))]
            else:
                start = rng.randrange(len(data))
                data[start:start] = data[start:start + rng.randint(1, 40)]
            out.append(bytes(data))
    return out
