"""Helpers for the pipeline tests: real services, real processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from braillejobs.translate.training.evaluate import RULEBOOK as SPECS  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BRAILLEJOBS_TEST_REDIS", "redis://127.0.0.1:6379/11")
PG_ADMIN_DSN = os.environ.get("BRAILLEJOBS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SETTINGS_VARS = [k for k in os.environ if k.startswith("BRAILLEJOBS_") and
                 not k.startswith("BRAILLEJOBS_TEST")]


def cli_path() -> str:
    script = Path(sys.executable).parent / "braillejobs"
    return str(script) if script.exists() else "braillejobs"


def reset_caches() -> None:
    from braillejobs import queue
    from braillejobs.db import session
    from braillejobs.translate import registry

    session.dispose_all()
    queue._cached_app.cache_clear()
    registry.forget()


@contextlib.contextmanager
def settings(**values):
    """Set BRAILLEJOBS_* variables for the block (and clear the process caches around it)."""
    old: dict = {}
    for k, v in values.items():
        key = "BRAILLEJOBS_" + k.upper()
        old.setdefault(key, os.environ.get(key))
        if v is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(v)
    reset_caches()
    try:
        yield
    finally:
        for k in values:
            key = "BRAILLEJOBS_" + k.upper()
            if old.get(key) is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old[key]
        reset_caches()


def env_for(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRAILLEJOBS_")
           or k.startswith("BRAILLEJOBS_TEST") or k == "BRAILLEJOBS_ENGINE"}
    env.update({"BRAILLEJOBS_" + k.upper(): str(v) for k, v in values.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL if it has not ended in 20 s."""
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Worker:
    """A `braillejobs worker` subprocess."""

    def __init__(self, log: Path, **values):
        self.log = log
        self.values = values
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "Worker":
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen([cli_path(), "worker", "--loglevel", "INFO"],
                                     env=env_for(**self.values), stdout=self.fh,
                                     stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if " ready." in text:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)
        if getattr(self, "fh", None):
            self.fh.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def louis_unicode(text: str, table: str = "en-ueb-g2.ctb") -> str:
    """Reference: what liblouis itself gives for a text, line by line (the translate filter)."""
    import louis

    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    mode = louis.dotsIO | louis.ucBrl
    return "".join(louis.translateString([table], line, mode=mode) + "\n" for line in lines)


def louis_blocks(paragraphs: list[str], table: str = "en-ueb-g2.ctb") -> str:
    """Reference for the unicode format of a plain text whose paragraphs are single lines:
    liblouis's translation of each paragraph, a blank line between them."""
    import louis

    mode = louis.dotsIO | louis.ucBrl
    return "\n\n".join(louis.translateString([table], p, mode=mode) for p in paragraphs) + "\n"
