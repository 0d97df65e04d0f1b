"""Queues by hardware, with real workers: neural jobs go to the GPU queue, liblouis jobs to the
CPU queue, default-engine jobs to the GPU queue only while a worker consumes it unpaused; each
worker consumes the queue of its hardware; submit warns when nobody consumes the queue."""

from __future__ import annotations

import pytest

from braillejobs import config, queue
from braillejobs.translate import device, registry
from tests.support import settings


@pytest.fixture
def probe(monkeypatch):
    registry.forget()
    fake = {"cuda": False}
    monkeypatch.setattr(device, "cuda_present", lambda: fake["cuda"])
    yield fake
    registry.forget()


def test_the_routing_rule():
    with settings(queue="cpu-q", gpu_queue="gpu-q"):
        assert queue.queue_for("louis") == "cpu-q"
        for neural in ("cnn", "rnn", "auto"):
            assert queue.queue_for(neural) == "gpu-q"
            assert queue.queue_for(neural, gpu_served=False) == "gpu-q"
        assert queue.queue_for("best", gpu_served=True) == "gpu-q"
        assert queue.queue_for("best", gpu_served=False) == "cpu-q"


def test_a_worker_consumes_the_queue_of_its_hardware(probe):
    with settings(queue="cpu-q", gpu_queue="gpu-q", device="auto"):
        assert queue.hardware_queue() == "cpu-q"
        registry.forget()
        probe["cuda"] = True
        assert queue.hardware_queue() == "gpu-q"
    assert config.setting("gpu_queue").default == "translate-gpu"


def _claimers(fleet, job_id: str) -> set[str]:
    return {row[0] for row in fleet.db("SELECT claimed_by FROM documents WHERE job_id = ?",
                                       (job_id,))}


def test_jobs_reach_the_workers_of_their_hardware(fleet):
    gpu_queue = fleet.env["BRAILLEJOBS_GPU_QUEUE"]
    docs = fleet.write_documents("routing", ["A short text for the queues.",
                                             "Another one, with 42 words."])
    # a CPU worker started without -Q consumes the CPU queue (this host has no CUDA device)
    cpu = fleet.start_worker(queue="")
    assert f"consuming {fleet.queue}\n" in cpu.log_tail(10**6)

    # no GPU worker yet: the default engine goes to the CPU queue, quietly
    result = fleet.run("submit", str(docs), "--engine", "best")
    job = result.stdout.split()[0]
    assert f"on {fleet.queue} " in result.stderr and "warning" not in result.stderr
    assert fleet.wait_job(job) == {"done": 2}
    assert all(c.endswith(f":{cpu.proc.pid}") for c in _claimers(fleet, job))
    assert {r[0] for r in fleet.db("SELECT engine FROM documents WHERE job_id = ?",
                                   (job,))} == {"louis"}

    # a neural job waits on the GPU queue, and submit says that nobody consumes it
    result = fleet.run("submit", str(docs), "--engine", "cnn")
    waiting = result.stdout.split()[0]
    assert f"on {gpu_queue} " in result.stderr
    assert f"warning: no worker consumes queue {gpu_queue}" in result.stderr
    assert fleet.db("SELECT COUNT(*) FROM documents WHERE job_id = ? AND status = 'queued'",
                    (waiting,)) == [(2,)]

    # a worker on the GPU queue (named, since this host has no GPU) takes it, and from now on
    # the default engine goes there too; liblouis jobs stay on the CPU queue
    gpu = fleet.start_worker(queue=gpu_queue)
    assert fleet.wait_job(waiting, timeout=180) == {"done": 2}
    assert all(c.endswith(f":{gpu.proc.pid}") for c in _claimers(fleet, waiting))
    result = fleet.run("submit", str(docs), "--engine", "best", "--format", "unicode")
    best = result.stdout.split()[0]
    assert f"on {gpu_queue} " in result.stderr and "warning" not in result.stderr
    result = fleet.run("submit", str(docs), "--engine", "louis", "--format", "pef")
    louis = result.stdout.split()[0]
    assert f"on {fleet.queue} " in result.stderr
    assert fleet.wait_job(best) == {"done": 2} and fleet.wait_job(louis) == {"done": 2}
    assert all(c.endswith(f":{gpu.proc.pid}") for c in _claimers(fleet, best))
    assert all(c.endswith(f":{cpu.proc.pid}") for c in _claimers(fleet, louis))

    # paused, the GPU queue no longer takes default jobs, and explicit ones are warned about
    fleet.run("workers", "pause", gpu_queue)
    try:
        result = fleet.run("submit", str(docs), "--engine", "best", "--format", "brf",
                           "--cells-per-line", "32")
        assert f"on {fleet.queue} " in result.stderr
        result = fleet.run("submit", str(docs), "--engine", "auto", "--format", "brf",
                           "--cells-per-line", "30")
        assert f"warning: queue {gpu_queue} is paused" in result.stderr
    finally:
        fleet.run("workers", "resume", gpu_queue)


def test_presence_ages_out_and_is_withdrawn(redis_client):
    from braillejobs.fleet import presence

    q1, q2 = "presence-test-a", "presence-test-b"
    try:
        presence.announce(redis_client, "w1@h", [q1, q2], now=1000.0)
        presence.announce(redis_client, "w2@h", [q1], now=1020.0)
        assert presence.consumers(redis_client, [q1, q2], now=1021.0) == \
            {q1: ["w1@h", "w2@h"], q2: ["w1@h"]}
        # thirty seconds without a word: gone (a dead worker, or a hung consumer loop)
        assert presence.consumers(redis_client, [q1, q2], now=1035.0) == {q1: ["w2@h"]}
        presence.withdraw(redis_client, "w2@h", [q1])
        assert presence.consumers(redis_client, [q1, q2], now=1036.0) == {}
    finally:
        redis_client.delete(presence.KEY.format(queue=q1), presence.KEY.format(queue=q2))


def test_a_worker_announces_its_queues_and_withdraws_them(fleet, redis_client):
    from braillejobs.fleet import presence

    queue_name = fleet.queue + "-presence"
    worker = fleet.start_worker(queue=queue_name)
    assert presence.consumers(redis_client, [queue_name]) == {queue_name: [worker.name]}
    worker.proc.terminate()
    worker.proc.wait(timeout=60)
    assert presence.consumers(redis_client, [queue_name]) == {}
