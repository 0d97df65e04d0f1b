"""Serving worker metrics: single process, and multiprocess mode for a pool that forks; the
exporter's behaviour when a source is down; `workers list` and `top --once` with the broker down
or no worker: exit status 1 and one line that says so."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fleet.support import cli, free_port, sample, scrape

ROOT = Path(__file__).resolve().parents[2]

MULTIPROCESS = textwrap.dedent("""
    import multiprocessing, os, sys, urllib.request
    from braillejobs import metrics

    def child(n):
        metrics.record_characters("auto", {"cnn": 10 * n, "louis": n})
        metrics.DOCUMENTS.labels("done", "brf").inc()
        metrics.record_task("q", "success", 0.5, documents=n)

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=child, args=(n,)) for n in (1, 2, 3)]
    for p in procs: p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
        metrics.child_exited(p.pid)
    metrics.start_worker_server(int(sys.argv[1]), addr="127.0.0.1")
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read().decode())
""")


def test_multiprocess_mode_adds_up_the_forked_processes(tmp_path):
    port = free_port()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", MULTIPROCESS, str(port)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(result.stdout) for s in fam.samples}
    assert sample(samples, "braillejobs_characters_total", engine="cnn") == 60
    assert sample(samples, "braillejobs_characters_total", engine="louis") == 6
    assert sample(samples, "braillejobs_fallback_characters_total", from_engine="cnn",
                  to_engine="louis") == 6
    assert sample(samples, "braillejobs_documents_total", status="done", format="brf") == 3
    assert sample(samples, "braillejobs_task_duration_seconds_count", queue="q",
                  status="success") == 3
    assert sample(samples, "braillejobs_task_documents_sum", queue="q") == 6
    assert any(name == "braillejobs_build_info" for name, _l in samples)


@pytest.fixture(scope="module")
def lone_redis(tmp_path_factory):
    """A redis-server of this module: no worker of any other test or person is on it."""
    from tests.reliability.harness import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("lone-redis")).start()
    yield server
    server.stop(hard=True)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRAILLEJOBS_")}
    env.update(extra)
    return env


def test_exporter_reports_a_source_it_cannot_read(tmp_path):
    dead = free_port()  # nothing listens there
    port = free_port()
    env = _env(BRAILLEJOBS_BROKER_URL=f"redis://127.0.0.1:{dead}/0",
               BRAILLEJOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'no.db'}",
               BRAILLEJOBS_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(cli() + ["exporter", "--port", str(port), "--addr", "127.0.0.1",
                                     "--ping-timeout", "0.5"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                samples = scrape(port)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert sample(samples, "braillejobs_exporter_source_up", source="broker") == 0
        assert sample(samples, "braillejobs_exporter_source_up", source="database") == 0
        assert not any(name == "braillejobs_queue_length" for name, _l in samples)
        assert not any(name == "braillejobs_jobs" for name, _l in samples)
        # an exporter that never reached the broker does not claim that no worker is up
        assert math.isnan(sample(samples, "braillejobs_workers_online"))
        # the status page says what it cannot read, and shows neither URL
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as resp:
            page = resp.read().decode()
        assert "Broker: cannot be read" in page and "Database: cannot be read" in page
        assert "Unknown: the broker cannot be read." in page
        assert str(dead) not in page and "no.db" not in page
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # its log says so, at a time that carries its zone
    logged = [line for line in proc.stdout.read().splitlines() if "reading the broker" in line]
    assert logged and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC WARNING ", line)
                          for line in logged), logged


def test_exporter_port_in_use_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(cli() + ["exporter", "--port", str(port), "--addr",
                                         "127.0.0.1"],
                                env=_env(BRAILLEJOBS_DATA_DIR=str(tmp_path)),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def _run(tmp_path, broker_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli() + list(args),
                          env=_env(BRAILLEJOBS_BROKER_URL=broker_url,
                                   BRAILLEJOBS_DATA_DIR=str(tmp_path),
                                   BRAILLEJOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'bj.db'}"),
                          capture_output=True, text=True, timeout=120)


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_workers_list_with_no_broker_says_what_to_do(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = _run(tmp_path, dead, "workers", "list", "--timeout", "0.5")
    _one_line_error(result, "cannot reach the broker", "BRAILLEJOBS_BROKER_URL")
    assert result.stdout == ""
    as_json = _run(tmp_path, dead, "workers", "list", "--timeout", "0.5", "--json")
    _one_line_error(as_json, "cannot reach the broker")
    assert json.loads(as_json.stdout) == []


def test_every_fleet_command_with_no_broker_names_the_fix(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    for args in (["queues", "--timeout", "0.5"], ["dead-letters", "list"],
                 ["workers", "pause", "q", "--timeout", "0.5"],
                 ["workers", "resume", "q", "--timeout", "0.5"],
                 ["workers", "drain", "nobody@x", "--timeout", "0.5"]):
        _one_line_error(_run(tmp_path, dead, *args), "cannot reach the broker",
                        "start Redis or set BRAILLEJOBS_BROKER_URL")


def test_top_once_with_no_broker_shows_the_screen_and_exits_1(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = _run(tmp_path, dead, "top", "--once", "--timeout", "0.5")
    _one_line_error(result, "cannot reach the broker")
    assert "Jobs in flight" in result.stdout and "cannot reach the broker" in result.stdout


def test_workers_list_and_top_once_with_no_worker_exit_1(tmp_path, lone_redis):
    """A Redis of its own, on which no worker runs: no answer is a failure, said once."""
    result = _run(tmp_path, lone_redis.url, "workers", "list", "--timeout", "0.5")
    _one_line_error(result, "no worker answered within 0.5 s", "braillejobs worker")
    assert result.stdout == ""
    as_json = _run(tmp_path, lone_redis.url, "workers", "list", "--timeout", "0.5", "--json")
    _one_line_error(as_json, "no worker answered")
    assert json.loads(as_json.stdout) == []
    assert _run(tmp_path, lone_redis.url, "db", "upgrade").returncode == 0  # a sound database
    top = _run(tmp_path, lone_redis.url, "top", "--once", "--timeout", "0.5")
    _one_line_error(top, "no worker answered within 0.5 s")
    assert "(no worker answered)" in top.stdout and "! " not in top.stdout


def test_worker_with_its_metrics_port_taken_says_what_to_do(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            cli() + ["worker", "-Q", "fleet-port-test"],
            env=_env(BRAILLEJOBS_METRICS_PORT=str(port), BRAILLEJOBS_DATA_DIR=str(tmp_path),
                     BRAILLEJOBS_DATABASE_URL=f"sqlite:///{tmp_path / 'bj.db'}",
                     BRAILLEJOBS_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0"),
            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"cannot serve metrics on port {port}" in result.stderr
    assert "BRAILLEJOBS_METRICS_PORT" in result.stderr and "Traceback" not in result.stderr


def test_creating_a_job_counts_its_documents_as_submitted(tmp_path):
    from braillejobs import jobs, metrics
    from tests.support import settings

    source = tmp_path / "in"
    source.mkdir()
    (source / "a.txt").write_text("One short document.\n")
    (source / "b.txt").write_text("Another one.\n")
    (source / "c.txt").write_text("Too long for the limit below. " * 10)

    def submitted(mode):
        value = metrics.REGISTRY.get_sample_value("braillejobs_submitted_documents_total",
                                                  {"mode": mode})
        return value or 0.0

    with settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'bj.db'}",
                  max_document_bytes=100):
        before = {mode: submitted(mode) for mode in ("queued", "embedded")}
        created = jobs.create_job([str(source)], jobs.JobOptions.build(engine="louis"))
        assert created.total == 3 and len(created.errors) == 1  # refused at submit: counted
        assert submitted("queued") - before["queued"] == 3
        jobs.create_job([str(source / "a.txt")], jobs.JobOptions.build(engine="louis"),
                        mode="embedded")
        assert submitted("embedded") - before["embedded"] == 1
        assert submitted("queued") - before["queued"] == 3


@pytest.mark.postgres
def test_exporter_reports_the_size_of_a_postgresql_database(pg_url, tmp_path):
    import psycopg2

    env = _env(BRAILLEJOBS_DATABASE_URL=pg_url, BRAILLEJOBS_DATA_DIR=str(tmp_path),
               BRAILLEJOBS_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    upgraded = subprocess.run(cli() + ["db", "upgrade"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    port = free_port()
    proc = subprocess.Popen(cli() + ["exporter", "--port", str(port), "--addr", "127.0.0.1",
                                     "--ping-timeout", "0.5"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                samples = scrape(port)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with psycopg2.connect(pg_url.replace("postgresql+psycopg2://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
    assert sample(samples, "braillejobs_exporter_source_up", source="database") == 1
    assert sample(samples, "braillejobs_jobs", state="queued") == 0
    assert abs(sample(samples, "braillejobs_database_size_bytes") - size) <= 256 * 1024
    assert size > 1024 * 1024  # a PostgreSQL database is megabytes even when empty


def test_healthz_fails_once_the_consumer_loop_stops_turning(monkeypatch):
    """/healthz answers from the consumer loop's last tick, not from the server thread: a hung
    consumer makes it 503 while /metrics still answers."""
    from prometheus_client import CollectorRegistry, Counter

    from workers import hooks

    registry = CollectorRegistry()
    Counter("probe_test_total", "a series to serve", registry=registry).inc()
    monkeypatch.setenv("BRAILLEJOBS_LIVENESS_SECONDS", "30")
    monkeypatch.setattr(hooks, "_presence", {})
    from braillejobs import metrics

    port = free_port()
    server = metrics._serve(port, "127.0.0.1", registry, hooks.health)
    url = f"http://127.0.0.1:{port}"
    try:
        def probe() -> tuple[int, str]:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=10) as resp:
                    return resp.status, resp.read().decode()
            except urllib.error.HTTPError as err:
                return err.code, err.read().decode()

        assert probe() == (200, "starting: the consumer has not started yet\n")
        hooks._presence["tick"] = time.monotonic()
        status, text = probe()
        assert status == 200 and text.startswith("ok: the consumer loop ran")
        hooks._presence["tick"] = time.monotonic() - 45      # no tick for 45 s: hung
        status, text = probe()
        assert status == 503
        assert text.startswith("hung: the consumer loop has not run for 45 s (limit 30 s")
        with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
            assert b"probe_test_total 1.0" in resp.read()   # why /metrics is no liveness probe
    finally:
        server.shutdown()
        server.server_close()
