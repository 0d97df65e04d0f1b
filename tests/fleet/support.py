"""Helpers for the fleet tests: a real Redis, real `braillejobs worker` processes, the CLI.

Isolation from other runs on the same Redis: a dedicated database number (override with
BRAILLEJOBS_TEST_FLEET_REDIS) and a unique queue and worker name per fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REDIS_URL = os.environ.get("BRAILLEJOBS_TEST_FLEET_REDIS", "redis://127.0.0.1:6379/13")


def cli() -> list[str]:
    script = Path(sys.executable).parent / "braillejobs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "braillejobs.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Samples of a /metrics page: (name, sorted labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class Fleet:
    """One isolated fleet: its queue, database, broker database and environment."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.queue = f"fleet-test-{uuid.uuid4().hex[:10]}"
        self.db_path = tmp / "braillejobs.db"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BRAILLEJOBS_")}
        self.env.update({
            "BRAILLEJOBS_BROKER_URL": REDIS_URL,
            "BRAILLEJOBS_DATABASE_URL": f"sqlite:///{self.db_path}",
            "BRAILLEJOBS_DATA_DIR": str(tmp / "data"),
            "BRAILLEJOBS_QUEUE": self.queue,
            "BRAILLEJOBS_GPU_QUEUE": self.queue + "-gpu",
            "BRAILLEJOBS_ENGINE": "louis",
            "BRAILLEJOBS_FORMAT": "brf",
            "BRAILLEJOBS_DEDUP": "false",
            "BRAILLEJOBS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        self.procs: list[subprocess.Popen] = []

    # ------------------------------------------------------------------------------- CLI
    def run(self, *args: str, timeout: float = 120, check: bool = True
            ) -> subprocess.CompletedProcess:
        result = subprocess.run(cli() + list(args), env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"braillejobs {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def celery(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Celery's own command line on this fleet (``celery -A braillejobs.queue:app ...``)."""
        return subprocess.run([sys.executable, "-m", "celery", "-A", "braillejobs.queue:app",
                               *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def json(self, *args: str, timeout: float = 120):
        return json.loads(self.run(*args, "--json", timeout=timeout).stdout)

    # --------------------------------------------------------------------------- workers
    def start_worker(self, name: str | None = None, metrics_port: int | None = None,
                     queue: str | None = None) -> "WorkerProc":
        name = name or f"fleettest-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        port = metrics_port or free_port()
        env = dict(self.env, BRAILLEJOBS_METRICS_PORT=str(port))
        log = open(self.tmp / f"worker-{name.split('@')[0]}.log", "w")
        # queue "": no -Q, the worker picks the queue of its hardware
        named = [] if queue == "" else ["-Q", queue or self.queue]
        proc = subprocess.Popen(cli() + ["worker", *named, "-n", name, "-l", "INFO"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        worker = WorkerProc(self, proc, name, port, log.name)
        worker.wait_ready()
        return worker

    def start_exporter(self, *args: str) -> "ExporterProc":
        """`braillejobs exporter` on a free port of 127.0.0.1, once it answers."""
        port = free_port()
        log = self.tmp / f"exporter-{port}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(cli() + ["exporter", "--port", str(port), "--addr",
                                             "127.0.0.1", *args],
                                    env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        exporter = ExporterProc(proc, port, log)
        deadline = time.monotonic() + 60
        while True:
            try:
                exporter.get("/healthz")
                return exporter
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the exporter did not start:\n{log.read_text()}")
                time.sleep(0.3)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    # -------------------------------------------------------------------------- database
    def db(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db_path, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def write_documents(self, folder: str, texts: list[str], suffix: str = ".txt") -> Path:
        path = self.tmp / folder
        path.mkdir(parents=True)
        for i, text in enumerate(texts):
            (path / f"doc-{i:03d}{suffix}").write_text(text, encoding="utf-8")
        return path

    def submit(self, path: Path, *extra: str) -> str:
        out = self.run("submit", str(path), *extra).stdout.strip().splitlines()
        return out[0].strip()

    def wait_job(self, job_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            counts = dict(self.db("SELECT status, COUNT(*) FROM documents WHERE job_id = ? "
                                  "GROUP BY status", (job_id,)))
            if counts and not (counts.get("queued") or counts.get("running")):
                return counts
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} not finished after {timeout} s: {counts}")
            time.sleep(0.3)


class WorkerProc:
    def __init__(self, fleet: Fleet, proc: subprocess.Popen, name: str, port: int, log: str):
        self.fleet, self.proc, self.name, self.port, self.log = fleet, proc, name, port, log

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited {self.proc.returncode}:\n"
                                     + Path(self.log).read_text()[-3000:])
            if self.fleet.celery("inspect", "ping", "-d", self.name, "-t", "1").returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError(f"worker {self.name} did not answer within {timeout} s:\n"
                             + Path(self.log).read_text()[-3000:])

    def metrics(self) -> dict:
        return scrape(self.port)

    def log_tail(self, chars: int = 4000) -> str:
        return Path(self.log).read_text(errors="replace")[-chars:]


class ExporterProc:
    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc, self.port, self.log = proc, port, log
        self.url = f"http://127.0.0.1:{port}/"

    def get(self, path: str) -> tuple[bytes, dict[str, str]]:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as resp:
            return resp.read(), dict(resp.headers.items())

    def metrics(self) -> dict:
        return scrape(self.port)

    def until(self, check, timeout: float = 30) -> dict:
        """Scrape until ``check(samples)`` holds (the exporter reads its sources at most every
        2 s); the samples that passed."""
        deadline = time.monotonic() + timeout
        while True:
            samples = self.metrics()
            if check(samples):
                return samples
            if time.monotonic() > deadline:
                shown = "\n".join(f"{k} {v}" for k, v in sorted(samples.items())
                                  if k[0].startswith(("braillejobs_queue", "braillejobs_worker")))
                raise AssertionError(f"the exporter never served what was expected; last:\n"
                                     f"{shown}")
            time.sleep(0.5)
