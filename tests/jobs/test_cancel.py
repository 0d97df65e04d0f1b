"""Cancelling a queued job takes its waiting task messages out of Redis (real Redis, no worker
consuming the queue), and leaves other jobs' messages where they are."""

from __future__ import annotations

import redis
from click.testing import CliRunner

from braillejobs import jobs
from braillejobs.cli import main
from braillejobs.queue import queue_keys
from tests.support import settings


def _waiting(url: str, queue: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return sum(client.llen(k) for k in queue_keys(queue))
    finally:
        client.close()


def test_cancel_takes_the_jobs_messages_out_of_the_queue(env, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"d{i}.txt").write_text(f"Document number {i}.", encoding="utf-8")
    options = jobs.JobOptions.build(format="brf", engine="louis")
    with settings(documents_per_task="2"):
        keep = jobs.submit([str(folder)], options, name="keep", priority="high")
        gone = jobs.submit([str(folder)], options, name="gone", priority="low")
    queue = env["queue"]
    assert keep.queue == gone.queue == queue
    assert _waiting(env["broker_url"], queue) == 6          # 3 chunks each, nobody consumes

    result = CliRunner().invoke(main, ["cancel", gone.job_id])
    assert result.exit_code == 0, result.output
    assert "cancelled 5 queued documents; took 3 task messages out of the queue" in result.stderr
    assert _waiting(env["broker_url"], queue) == 3          # the other job's stay
    done = jobs.cancel(keep.job_id)
    assert (done.documents, done.messages, done.warning) == (5, 3, None)
    assert _waiting(env["broker_url"], queue) == 0
