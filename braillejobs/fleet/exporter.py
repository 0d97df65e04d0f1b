"""``braillejobs exporter``: the fleet's gauges for Prometheus, read at each scrape.

Workers count what they do; what no single worker knows comes from here: queue lengths (Redis;
the configured queue, every queue a worker consumes, every paused queue), dead letters by queue,
jobs and documents by state and the longest-idle unfinished job (the database), and how many
workers answer a ping. The broker and the database are read when Prometheus scrapes (at most
once per ``min_interval`` seconds, so that several scrapers do not multiply the load); a source
that cannot be read sets ``braillejobs_exporter_source_up{source=...}`` to 0 and keeps its last
values, and the scrape still succeeds.

``/metrics`` serves the gauges, ``/healthz`` answers ``ok`` while the process runs.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable

from prometheus_client import CONTENT_TYPE_LATEST

from .. import config, metrics

log = logging.getLogger("braillejobs.exporter")


class FleetReader:
    """Reads the broker and the database into the fleet gauges of :mod:`braillejobs.metrics`."""

    def __init__(self, queues: Iterable[str] = (), database_url: str | None = None,
                 ping_timeout: float = 1.0, min_interval: float = 2.0):
        self.queues = list(queues)
        self.database_url = database_url
        self.ping_timeout = ping_timeout
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._last = 0.0

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            self._refresh(force)

    def render(self) -> bytes:
        """Refresh (unless done within ``min_interval``) and expose, under one lock."""
        with self._lock:
            self._refresh(False)
            return metrics.fleet_metrics_text()

    def _refresh(self, force: bool) -> None:
        if not force and time.monotonic() - self._last < self.min_interval:
            return
        started = time.perf_counter()
        self._read_broker()
        self._read_database()
        metrics.EXPORTER_SCRAPE_DURATION.set(time.perf_counter() - started)
        self._last = time.monotonic()

    def _read_broker(self) -> None:
        from . import control as fleet

        try:
            fleet.check_reachable()
            online = fleet.ping(timeout=self.ping_timeout)
            consumed = fleet.queue_consumers(answered=list(online), timeout=self.ping_timeout)
            paused = fleet.paused_queues()
            own = self.queues or [config.get("queue"), config.get("gpu_queue")]
            names = list(dict.fromkeys([*own, *consumed, *paused]))
            lengths = fleet.queue_lengths(names)
            dead = fleet.dead_letter_counts()
        except Exception as exc:
            log.warning("reading the broker failed: %s", exc)
            metrics.EXPORTER_UP.labels("broker").set(0)
            return
        metrics.set_labelled(metrics.QUEUE_LENGTH, lengths)
        metrics.set_labelled(metrics.DEAD_LETTER_MESSAGES, dead, names)
        metrics.WORKERS_ONLINE.set(len(online))
        metrics.EXPORTER_UP.labels("broker").set(1)

    def _read_database(self) -> None:
        from sqlalchemy.orm import Session

        from ..db import state
        from ..db.models import DOCUMENT_STATUSES, JOB_STATES
        from ..db.session import get_engine

        try:
            with Session(get_engine(self.database_url)) as session:
                jobs, documents, oldest = state.totals(session)
        except Exception as exc:
            log.warning("reading the database failed: %s", str(exc).splitlines()[0])
            metrics.EXPORTER_UP.labels("database").set(0)
            return
        metrics.set_labelled(metrics.JOBS, jobs, JOB_STATES)
        metrics.set_labelled(metrics.STORED_DOCUMENTS, documents, DOCUMENT_STATUSES)
        idle = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
        metrics.JOB_IDLE_MAX.set(max(0.0, idle))
        metrics.EXPORTER_UP.labels("database").set(1)


def make_server(reader: FleetReader, port: int, addr: str = "0.0.0.0") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, reader.render(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found: try /metrics or /healthz\n",
                           "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):  # quiet: Prometheus scrapes every 15 s
            log.debug("%s " + fmt, self.address_string(), *args)

    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    return server


def serve(port: int, addr: str = "0.0.0.0", queues: Iterable[str] = (),
          ping_timeout: float = 1.0) -> None:
    reader = FleetReader(queues, ping_timeout=ping_timeout)
    server = make_server(reader, port, addr)
    log.info("exporter serving on %s:%d", addr, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
