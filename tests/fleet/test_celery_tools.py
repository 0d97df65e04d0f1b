"""Celery's own tools see the fleet: `celery -A braillejobs.queue:app inspect ping` answers,
and a real Flower, started with `braillejobs flower`, lists the real workers and the tasks they
ran (from their task events) through its API, behind its password."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.fleet.support import cli, free_port


def _get(url: str, auth: str | None = None):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def worker(fleet):
    return fleet.start_worker()


def test_celery_inspect_ping_answers(fleet, worker):
    result = subprocess.run([sys.executable, "-m", "celery", "-A", "braillejobs.queue:app",
                             "inspect", "ping", "-d", worker.name, "-t", "5"], env=fleet.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert worker.name in result.stdout and "pong" in result.stdout


def test_flower_refuses_to_run_without_a_real_password(fleet):
    for value in (None, "admin", "admin:", "admin:change-me-flower"):
        env = dict(fleet.env)
        env.pop("FLOWER_BASIC_AUTH", None)
        if value is not None:
            env["FLOWER_BASIC_AUTH"] = value
        result = subprocess.run(cli() + ["flower"], env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1, value
        assert result.stderr.startswith("Error: ") and "FLOWER_BASIC_AUTH" in result.stderr


def test_flower_sees_the_workers_and_their_tasks(fleet, worker):
    port = free_port()
    auth = "operator:a-real-secret"
    flower = subprocess.Popen(cli() + ["flower", "--port", str(port)],
                              env=dict(fleet.env, FLOWER_BASIC_AUTH=auth),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        workers = {}
        while worker.name not in workers:
            assert flower.poll() is None, flower.stdout.read()
            assert time.monotonic() < deadline, f"Flower never listed {worker.name}"
            try:
                workers = _get(f"{base}/api/workers?refresh=1", auth)
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        info = workers[worker.name]
        queues = [q["name"] for q in info.get("active_queues", [])]
        assert queues == [fleet.queue]
        # without the password: refused; the health check (compose's) needs none
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(f"{base}/api/workers")
        assert refused.value.code == 401
        with urllib.request.urlopen(f"{base}/healthcheck", timeout=10) as health:
            assert health.read() == b"OK"
        # a job's tasks appear in Flower from the workers' task events
        docs = fleet.write_documents("flower", ["Flower watches this one.", "And this."])
        job = fleet.submit(docs)
        assert fleet.wait_job(job) == {"done": 2}
        deadline = time.monotonic() + 60
        while True:
            tasks = _get(f"{base}/api/tasks", auth)
            done = [t for t in tasks.values() if t.get("name") ==
                    "braillejobs.translate_documents" and t.get("state") == "SUCCESS"
                    and job in str(t.get("args"))]
            if done:
                break
            assert time.monotonic() < deadline, f"no finished task of {job} in Flower: {tasks}"
            time.sleep(0.5)
        assert done[0]["worker"] == worker.name
    finally:
        flower.terminate()
        flower.wait(timeout=30)
