"""Real processes for the fault-injection tests: a Redis server of our own (on a free port, in a
temp dir, with an append-only file so that a restart keeps the queue), a throwaway PostgreSQL
cluster we may stop, `braillejobs worker` subprocesses we may kill, and the report."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import stop_process

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli() -> str:
    script = Path(sys.executable).parent / "braillejobs"
    return str(script) if script.exists() else "braillejobs"


def base_env(**values) -> dict:
    # The suite's engine choice is kept (tests/conftest.py: liblouis unless told otherwise), so
    # that a worker does not load the neural models at start-up for nothing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRAILLEJOBS_")
           or k == "BRAILLEJOBS_ENGINE"}
    env.update({"BRAILLEJOBS_" + k.upper(): str(v) for k, v in values.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- the report ------------------------------------------------------------------------------

@dataclass
class Report:
    kill_rounds: int = 0
    redis_restarts: int = 0
    postgres_stops: int = 0
    sigterm_shutdowns: int = 0
    poison_failed: int = 0
    time_limit_exits: int = 0
    documents_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    hostile_inputs: int = 0
    hostile_by_kind: Counter = field(default_factory=Counter)
    worker_crashes: int = 0
    outside_writes: int = 0

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.hostile_by_kind.items()))
        return [
            f"kill -9 rounds survived (mid-task):  {self.kill_rounds}",
            f"Redis restarts survived:             {self.redis_restarts}",
            f"PostgreSQL stops survived:           {self.postgres_stops}",
            f"SIGTERM warm shutdowns:              {self.sigterm_shutdowns}",
            f"poison documents failed with reason: {self.poison_failed} "
            f"(time-limit worker exits: {self.time_limit_exits})",
            f"documents checked after faults:      {self.documents_checked}",
            f"documents lost:                      {self.lost}",
            f"documents duplicated:                {self.duplicated}",
            f"hostile inputs tried:                {self.hostile_inputs}"
            + (f" ({kinds})" if kinds else ""),
            f"files written outside the output:    {self.outside_writes}",
            f"worker crashes:                      {self.worker_crashes}",
        ]


REPORT = Report()


# --- Redis -----------------------------------------------------------------------------------

class RedisServer:
    """A redis-server of this test run: its own port and directory, AOF on."""

    def __init__(self, root: Path, password: str | None = None):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = password
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed")
        args = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                "--daemonize", "no", "--logfile", str(self.root / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 20, f"redis-server on port {self.port}")
        return self

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           socket_connect_timeout=1)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def stop(self, hard: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            self.proc.wait(20)

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb in a temp dir, its own port), run as the
    ``postgres`` user when we are root. Only this cluster is ever stopped."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                self.user = None

    @classmethod
    def available(cls) -> str | None:
        """None when a cluster can be made here, else why not."""
        if not (_pg_bin("initdb") and _pg_bin("pg_ctl")):
            return "initdb/pg_ctl not installed"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root without a postgres user"
            if not shutil.which("runuser"):
                return "runuser not available"
        return None

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = args
        if self.user is not None:
            cmd = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def init(self) -> "PostgresCluster":
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            os.chmod(self.root, 0o700)
        out = self._run([_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U",
                         "postgres", "--no-sync", "-E", "UTF8"], timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {out.stderr}")
        with open(self.data / "postgresql.conf", "a") as fh:
            fh.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                     f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                     "max_connections = 50\n")
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        out = self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-l",
                         str(self.root / "pg.log"), "-w", "-t", "60", "start"], timeout=90)
        if out.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {out.stderr}{out.stdout}")

    def stop(self, mode: str = "immediate") -> None:
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                  timeout=60)


# --- workers ---------------------------------------------------------------------------------

class WorkerProcess:
    """One `braillejobs worker` subprocess that the test may kill, stop and start again."""

    def __init__(self, name: str, log_dir: Path, values: dict):
        self.name = name
        self.log_dir = log_dir
        self.values = values
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.expected_exit = False
        self.logs: list[Path] = []

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def start(self, wait: bool = True) -> "WorkerProcess":
        self.generation += 1
        log = self.log_dir / f"{self.name}-{self.generation}.log"
        self.logs.append(log)
        fh = open(log, "w")
        self.proc = subprocess.Popen(
            [cli(), "worker", "--loglevel", "INFO",
             "--hostname", f"{self.name}-{self.generation}@%h"],
            env=base_env(**self.values), stdout=fh, stderr=subprocess.STDOUT, cwd=REPO,
            start_new_session=True)
        fh.close()
        self.expected_exit = False
        if wait:
            self.wait_ready()
        return self

    def log_text(self) -> str:
        return self.logs[-1].read_text(errors="replace") if self.logs else ""

    def wait_ready(self, timeout: float = 90) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_text()}")
            return " ready." in self.log_text()
        wait_for(ready, timeout, f"worker {self.name} to be ready", interval=0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        self.expected_exit = True
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.alive():
            self.expected_exit = True
            stop_process(self.proc)

    def unexpected_exit(self) -> int | None:
        """The exit status when the process ended without the test ending it."""
        if self.proc is None or self.expected_exit:
            return None
        return self.proc.poll()


def claimer_pid(claimed_by: str | None) -> int | None:
    if not claimed_by or ":" not in claimed_by:
        return None
    pid = claimed_by.rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


# --- a fleet of one test ----------------------------------------------------------------------

class Fleet:
    """Workers of one test on one database and one queue, and checks on what they stored."""

    def __init__(self, root: Path, broker_url: str, database_url: str, **values):
        self.root = root
        self.values = {"broker_url": broker_url, "database_url": database_url,
                       "queue": f"rel-{uuid.uuid4().hex[:10]}", "data_dir": str(root / "data"),
                       "wait_poll_seconds": "0.1", **values}
        self.workers: list[WorkerProcess] = []
        (root / "logs").mkdir(parents=True, exist_ok=True)

    def settings(self):
        from tests.support import settings
        return settings(**self.values)

    def worker(self, name: str, wait: bool = True, **extra) -> WorkerProcess:
        w = WorkerProcess(name, self.root / "logs", {**self.values, **extra})
        self.workers.append(w)
        return w.start(wait=wait)

    def submit(self, paths: list[str], **options) -> str:
        from braillejobs import jobs

        with self.settings():
            created = jobs.submit(paths, jobs.JobOptions.build(**options))
        return created.job_id

    def rows(self, job_id: str) -> list[dict]:
        from sqlalchemy import func, select

        from braillejobs.db.models import Document, Result
        from braillejobs.db.session import session_factory

        with self.settings():
            with session_factory()() as session:
                n_results = dict(session.execute(
                    select(Result.document_id, func.count()).where(Result.job_id == job_id)
                    .group_by(Result.document_id)).all())
                docs = session.execute(
                    select(Document.id, Document.path, Document.status, Document.attempts,
                           Document.error, Document.claimed_by)
                    .where(Document.job_id == job_id).order_by(Document.seq)).all()
        return [{"id": d.id, "path": d.path, "status": d.status, "attempts": d.attempts,
                 "error": d.error, "claimed_by": d.claimed_by,
                 "results": n_results.get(d.id, 0)} for d in docs]

    def counts(self, job_id: str) -> Counter:
        return Counter(r["status"] for r in self.rows(job_id))

    def wait_finished(self, job_id: str, timeout: float, supervise: bool = True) -> list[dict]:
        """Wait until no document is queued or running, restarting workers that exited (as a
        supervisor would); returns the rows."""
        def finished():
            if supervise:
                self.supervise()
            c = self.counts(job_id)
            return c["queued"] + c["running"] == 0
        try:
            wait_for(finished, timeout, f"job {job_id} to finish", interval=0.3)
        except AssertionError as exc:
            tails = "\n".join(f"--- {w.name} (generation {w.generation}, alive {w.alive()}):\n"
                              + w.log_text()[-1500:] for w in self.workers)
            raise AssertionError(f"{exc}: {dict(self.counts(job_id))}\n{tails}") from None
        return self.rows(job_id)

    def supervise(self) -> int:
        """Restart the workers that have exited; returns how many had exited unexpectedly."""
        unexpected = 0
        for w in self.workers:
            if not w.alive() and not getattr(w, "retired", False):
                status = w.proc.returncode
                if not w.expected_exit:
                    if status == 70:
                        REPORT.time_limit_exits += 1
                    else:
                        unexpected += 1
                        REPORT.worker_crashes += 1
                w.start(wait=False)
        return unexpected

    def check_exactly_once(self, rows: list[dict]) -> None:
        """Every document done with one result, or failed with a reason and no result."""
        REPORT.documents_checked += len(rows)
        lost = [r for r in rows if r["status"] in ("queued", "running")]
        dup = [r for r in rows if r["results"] > 1]
        done_without = [r for r in rows if r["status"] == "done" and r["results"] != 1]
        failed_silent = [r for r in rows if r["status"] == "failed" and not r["error"]]
        REPORT.lost += len(lost) + len(done_without)
        REPORT.duplicated += len(dup)
        assert not lost, f"documents left unfinished: {lost[:5]}"
        assert not dup, f"documents with more than one result: {dup[:5]}"
        assert not done_without, f"done documents without exactly one result: {done_without[:5]}"
        assert not failed_silent, f"failed documents without a reason: {failed_silent[:5]}"

    def stop_all(self) -> None:
        for w in self.workers:
            w.retired = True
            w.stop()

    def crashes(self) -> list[str]:
        """Workers that ended on their own with a status other than the time-limit exit."""
        return [f"{w.name}: exit {w.proc.returncode}" for w in self.workers
                if w.unexpected_exit() not in (None, 70)]
