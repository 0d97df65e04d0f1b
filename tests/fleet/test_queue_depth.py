"""Documents in a queue, counted from the task messages that Celery really put in Redis."""

from __future__ import annotations

import json
import uuid

import pytest

from braillejobs import queue
from braillejobs.fleet import control, queue_depth
from tests.fleet.support import REDIS_URL
from tests.support import settings

pytestmark = pytest.mark.redis


@pytest.fixture
def queue_name(redis_client):
    name = f"depth-test-{uuid.uuid4().hex[:10]}"
    with settings(broker_url=REDIS_URL, queue=name, gpu_queue=name + "-gpu"):
        yield name
    for key in redis_client.scan_iter(match=f"*{name}*"):
        redis_client.delete(key)


def test_documents_are_the_ids_the_messages_carry_over_every_priority(queue_name,
                                                                      redis_client):
    queue.send_chunks("job-a", [[1, 2, 3], [4]], "high", queue_name)
    queue.send_chunks("job-b", [[5, 6, 7, 8, 9]], "normal", queue_name)
    queue.send_chunks("job-c", [[10, 11]], "low", queue_name)
    # messages that carry no document of ours: another task, and bytes that are no message
    key = queue.queue_key(queue_name)
    redis_client.lpush(key, b'{"headers": {"task": "other.task"}, "body": "W10="}')
    redis_client.lpush(key, b"\xff\xfe not json")
    assert {k for k in queue.queue_keys(queue_name) if redis_client.llen(k)} == {
        queue.queue_key(queue_name, p) for p in (0, 3, 6)}

    assert control.queue_lengths([queue_name]) == {queue_name: 6}
    assert queue_depth.document_counts([queue_name]) == {queue_name: 11}
    # read a page of one message at a time: the same count
    assert queue_depth.document_counts([queue_name], page=1) == {queue_name: 11}
    # an unknown queue has none
    assert queue_depth.document_counts(["nobody-" + queue_name]) == {"nobody-" + queue_name: 0}


def test_a_long_queue_is_read_up_to_a_limit_and_the_rest_estimated(queue_name):
    queue.send_chunks("job-a", [[i, i + 1] for i in range(1, 41, 2)], "normal", queue_name)
    assert queue_depth.document_counts([queue_name]) == {queue_name: 40}
    # 5 of 20 messages read (2 documents each): the other 15 count as 2 each too
    assert queue_depth.document_counts([queue_name], max_messages=5, page=2) == {
        queue_name: 40}


def test_one_message_too_large_counts_no_document(queue_name, redis_client):
    queue.send_chunks("job-a", [[1, 2]], "normal", queue_name)
    raw = redis_client.lindex(queue.queue_key(queue_name, queue.PRIORITIES["normal"]), 0)
    assert queue_depth.documents_in(raw) == 2
    assert queue_depth.documents_in(raw, max_bytes=len(raw) - 1) == 0


def test_a_message_the_gate_would_refuse_counts_no_document(queue_name, redis_client):
    """Counting uses the gate's own check: a message whose ids a worker would refuse (0 is no
    document id) carries nothing, and neither does a message of another task."""
    queue.send_chunks("job-a", [[0, 1]], "normal", queue_name)
    key = queue.queue_key(queue_name, queue.PRIORITIES["normal"])
    assert queue_depth.documents_in(redis_client.lindex(key, 0)) == 0
    raw = json.loads(redis_client.lindex(key, 0))
    raw["headers"]["task"] = "some.other.task"
    assert queue_depth.documents_in(json.dumps(raw)) == 0
