"""Queued documents whose task message the broker lost are sent again, and only those: checked
on a real Redis (the messages Celery really wrote, kombu's own unacknowledged hash) and SQLite."""

from __future__ import annotations

import json
import uuid

import pytest

from braillejobs import jobs, queue
from braillejobs.fleet import recovery
from tests.fleet.support import REDIS_URL
from tests.support import settings

pytestmark = pytest.mark.redis


@pytest.fixture
def job_env(tmp_path, redis_client):
    name = f"lost-test-{uuid.uuid4().hex[:10]}"
    with settings(broker_url=REDIS_URL, queue=name, gpu_queue=name + "-gpu",
                  database_url=f"sqlite:///{tmp_path / 'bj.db'}", data_dir=tmp_path / "data",
                  documents_per_task=3, engine="louis"):
        yield name
    for key in redis_client.scan_iter(match=f"*{name}*"):
        redis_client.delete(key)


def _submit(tmp_path, count: int) -> str:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(count):
        (folder / f"doc{i:02d}.txt").write_text(f"Document {i} is short.\n")
    return jobs.submit([str(folder)], jobs.JobOptions.build(engine="louis")).job_id


def _messages(client, name: str) -> list[tuple[bytes, bytes]]:
    return [(key.encode(), raw) for key in queue.queue_keys(name) for raw in client.lrange(key, 0, -1)]


def _ids(raw) -> list[int]:
    from braillejobs.messages import task_arguments

    return task_arguments(raw, max_bytes=1 << 20)[1]


def test_nothing_is_sent_while_every_document_has_a_message(tmp_path, job_env, redis_client):
    _submit(tmp_path, 8)
    assert len(_messages(redis_client, job_env)) == 3       # 3 + 3 + 2 documents
    done = recovery.check(redis_client, 0)
    assert done.looked_for == 8 and done.complete and done.jobs == {}
    assert len(_messages(redis_client, job_env)) == 3


def test_a_lost_message_is_sent_again_once_and_a_held_one_is_not(tmp_path, job_env,
                                                                  redis_client):
    job_id = _submit(tmp_path, 8)
    (key_a, lost), (key_b, held), _third = _messages(redis_client, job_env)
    # One message lost (popped and never recorded), one held by a worker: kombu's
    # unacknowledged hash keeps [message, exchange, routing key] under a delivery tag.
    assert redis_client.lrem(key_a, 1, lost) == 1
    assert redis_client.lrem(key_b, 1, held) == 1
    tag = f"{job_env}-tag"
    redis_client.hset(recovery.UNACKED_KEY, tag, json.dumps([json.loads(held), "", job_env]))
    try:
        done = recovery.check(redis_client, 0)
    finally:
        redis_client.hdel(recovery.UNACKED_KEY, tag)
    assert done.complete and done.jobs == {job_id: sorted(_ids(lost))}
    messages = _messages(redis_client, job_env)
    assert len(messages) == 2 and sorted(_ids(messages[0][1])) == sorted(_ids(lost))
    # the new message is seen by the next check: nothing is sent twice
    redis_client.hset(recovery.UNACKED_KEY, tag, json.dumps([json.loads(held), "", job_env]))
    try:
        assert recovery.check(redis_client, 0).jobs == {}
    finally:
        redis_client.hdel(recovery.UNACKED_KEY, tag)


def test_quiet_jobs_only_and_never_past_the_scan_limit(tmp_path, job_env, redis_client):
    _submit(tmp_path, 8)
    key, raw = _messages(redis_client, job_env)[0]
    redis_client.lrem(key, 1, raw)
    # the job changed within the last minute: not looked at yet
    assert recovery.check(redis_client, 60).looked_for == 0
    # more messages than the limit allows to read: undecided, so nothing is sent
    done = recovery.check(redis_client, 0, max_scanned=1)
    assert not done.complete and done.jobs == {}
    assert len(_messages(redis_client, job_env)) == 2


def test_documents_no_longer_queued_are_not_sent(tmp_path, job_env, redis_client):
    job_id = _submit(tmp_path, 8)
    for key, raw in _messages(redis_client, job_env):
        redis_client.lrem(key, 1, raw)
    jobs.cancel(job_id)
    assert recovery.check(redis_client, 0).jobs == {}
    assert _messages(redis_client, job_env) == []


def test_one_worker_of_the_fleet_takes_each_turn(job_env, redis_client):
    assert recovery.take_turn(redis_client, "a@host", 10)
    assert not recovery.take_turn(redis_client, "b@host", 10)
