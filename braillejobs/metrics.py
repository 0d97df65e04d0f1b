"""Every Prometheus metric of braillejobs, defined once.

Naming follows Prometheus practice: the ``braillejobs_`` prefix, base units (seconds, bytes),
``_total`` for counters, ``_seconds`` for durations. Labels are few and of low cardinality
(engine, status, queue, format, state, device); a job or document id is never a label.

Two sets of metrics live here:

* Worker metrics, in the default registry: what a worker did (documents, characters by engine,
  braille cells, fallbacks, durations, queue wait and submit-to-done latency, batch sizes) plus
  its GPU memory (torch's and NVML's), model and build info. A worker serves them on
  ``metrics_port`` (:func:`start_worker_server`). When the environment names
  ``PROMETHEUS_MULTIPROC_DIR`` (a pool that forks), the values live in files shared by the
  processes and the server aggregates them. Every labelled series whose label values are known
  in advance exists from the start at 0, so that a ratio of rates is 0 on a healthy fleet, not
  "No data".
* Fleet metrics (:data:`FLEET`): queues, workers and the database as ``braillejobs exporter``
  reads them at scrape time. They are described here (:class:`Family`) and produced by the
  exporter's collector (:mod:`braillejobs.fleet.exporter`).

:func:`catalogue` lists every family of both, for the checks of dashboards and rules.

This module must not import torch: GPU memory is read at scrape time from a torch that the worker
has already imported, and only then.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    REGISTRY,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from . import __version__
from .formats.charset import KINDS as TRANSCRIPTION_KINDS
from .messages import KINDS

log = logging.getLogger(__name__)

NAMESPACE = "braillejobs"

# The values a label may take. Anything else is folded into "other" so that a bug or a hostile
# input can never create an unbounded number of series.
ENGINES = ("louis", "cnn", "rnn")
DOCUMENT_STATUSES = ("done", "failed", "cancelled")
TASK_STATUSES = ("success", "failure", "retry")
FORMATS = ("unicode", "brf", "pef")
JOB_MODES = ("queued", "embedded")  # how a job was submitted (braillejobs.db.models.MODES)
DEAD_LETTER_REASONS = KINDS  # why a worker refuses a message (braillejobs.messages)

_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
                     1800, 3600)
_CHAR_BUCKETS = (100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000, 500_000,
                 1_000_000, 5_000_000)
_DOC_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 1000)
# Waiting in a queue and the whole way from submit to done: seconds to a day.
_LATENCY_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400,
                    43200, 86400)


@dataclass(frozen=True)
class Family:
    """A metric family that a custom collector yields at scrape time: its name (without
    ``_total`` for a counter), type, help and label names, written down once."""
    name: str
    type: str  # "gauge" or "counter"
    documentation: str
    labels: tuple[str, ...] = ()

    def new(self) -> GaugeMetricFamily | CounterMetricFamily:
        """An empty family to add samples to."""
        kind = CounterMetricFamily if self.type == "counter" else GaugeMetricFamily
        return kind(self.name, self.documentation, labels=list(self.labels))


def _bounded(value: str | None, allowed: Iterable[str]) -> str:
    return value if value in allowed else "other"


def format_label(fmt: str | None) -> str:
    """The ``format`` label for an output format (unknown ones become "other")."""
    return _bounded(fmt, FORMATS)


# --------------------------------------------------------------------------- worker metrics
DOCUMENTS = Counter(
    "braillejobs_documents_total",
    "Documents a worker finished, by final status (done, failed, cancelled) and output format.",
    ["status", "format"])
CHARACTERS = Counter(
    "braillejobs_characters_total",
    "Print characters translated, by the engine that produced their braille (louis, cnn, rnn).",
    ["engine"])
FALLBACK_CHARACTERS = Counter(
    "braillejobs_fallback_characters_total",
    "Characters that the first engine tried handed on, by that engine (from_engine) and the "
    "engine that finally translated them (to_engine). Each character is counted once, so "
    "sum(this) / sum(braillejobs_characters_total) is the fallback ratio.",
    ["from_engine", "to_engine"])
CELLS = Counter(
    "braillejobs_braille_cells_total",
    "Braille cells written to outputs, by output format.",
    ["format"])
DOCUMENT_DURATION = Histogram(
    "braillejobs_document_duration_seconds",
    "Time to convert one document (read, translate, lay out, store), by output format.",
    ["format"], buckets=_DURATION_BUCKETS)
TASK_DURATION = Histogram(
    "braillejobs_task_duration_seconds",
    "Run time of one Celery task, by queue and outcome (success, failure, retry).",
    ["queue", "status"], buckets=_DURATION_BUCKETS)
BATCH_CHARACTERS = Histogram(
    "braillejobs_batch_characters",
    "Characters in one engine batch (one forward pass for the neural engines), by engine.",
    ["engine"], buckets=_CHAR_BUCKETS)
TASK_DOCUMENTS = Histogram(
    "braillejobs_task_documents",
    "Documents carried by one task message.",
    ["queue"], buckets=_DOC_BUCKETS)
QUEUE_WAIT = Histogram(
    "braillejobs_document_queue_wait_seconds",
    "Time from a document's submission to its claim by a worker (claimed_at - created_at), "
    "observed by the worker when it finishes the document (done or failed).",
    buckets=_LATENCY_BUCKETS)
SUBMIT_TO_DONE = Histogram(
    "braillejobs_document_submit_to_done_seconds",
    "Time from a document's submission to its result being stored (finished_at - created_at), "
    "observed by the worker for every document that ends done.",
    buckets=_LATENCY_BUCKETS)
SUBMITTED_DOCUMENTS = Counter(
    "braillejobs_submitted_documents_total",
    "Documents recorded by submit or convert (those refused at submit included), by how the job "
    "runs (queued: on the workers; embedded: convert in one process). The exporter serves the "
    "same count from the database.",
    ["mode"])
TRANSCRIBED_CHARACTERS = Counter(
    "braillejobs_transcribed_characters",
    "Characters that braille has no sign for, transcribed in finished documents, by how (level: "
    "superscript and subscript characters as level indicators; transliterated: other scripts in "
    "a transcriber's note; emoji and named: named in a note; compatibility: written as the "
    "characters they stand for; invisible: joiners and variation selectors, left out).",
    ["kind"])
for _kind in TRANSCRIPTION_KINDS:
    TRANSCRIBED_CHARACTERS.labels(_kind)
CORRECTIONS_APPLIED = Counter(
    "braillejobs_corrections_applied",
    "Uses of transcribers' corrections (braillejobs corrections) in the braille of finished "
    "documents: each time a corrected word or phrase was written as its correction says.")
DEAD_LETTERS = Counter(
    "braillejobs_dead_letters",
    "Messages a worker refused to run and moved to the dead-letter list, by reason (envelope, "
    "encoding, properties, headers, task, body, arguments, too_large).",
    ["reason"])
for _reason in DEAD_LETTER_REASONS:  # every series from the start: rate() has data at once
    DEAD_LETTERS.labels(_reason)
RESENT_DOCUMENTS = Counter(
    "braillejobs_resent_documents",
    "Queued documents whose task message the broker had lost (a Redis restart or failover "
    "between a worker's pop and its acknowledgement record) and that a worker's check sent "
    "again.")
MODEL_INFO = Gauge(
    "braillejobs_model_info",
    "The model a worker loaded for an engine (value 1): its version and the device it runs on.",
    ["engine", "version", "device"], multiprocess_mode="max")
BUILD_INFO = Gauge(
    "braillejobs_build_info",
    "Version of braillejobs and of Python in this process (value 1).",
    ["version", "python"], multiprocess_mode="max")
BUILD_INFO.labels(__version__, platform.python_version()).set(1)


def _initialise_series() -> None:
    """Every series whose label values are known in advance, at 0 from the start: a failure
    ratio is then 0 on a healthy fleet, and rate() has data at once."""
    for fmt in FORMATS:
        for status in DOCUMENT_STATUSES:
            DOCUMENTS.labels(status, fmt)
        CELLS.labels(fmt)
        DOCUMENT_DURATION.labels(fmt)
    for engine in ENGINES:
        CHARACTERS.labels(engine)
        for other in ENGINES:
            if other != engine:
                FALLBACK_CHARACTERS.labels(engine, other)
    for engine in ENGINES + ("auto",):
        BATCH_CHARACTERS.labels(engine)


_initialise_series()


def initialise_queue_series(queues: Iterable[str]) -> None:
    """The per-queue series of a worker's queues, at 0 before its first task."""
    for queue in queues:
        for status in TASK_STATUSES:
            TASK_DURATION.labels(queue, status)
        TASK_DOCUMENTS.labels(queue)


GPU_MEMORY_USED = Family(
    "braillejobs_worker_gpu_memory_used_bytes", "gauge",
    "GPU memory allocated by this worker's tensors, by device.", ("device",))
GPU_MEMORY_TOTAL = Family(
    "braillejobs_worker_gpu_memory_total_bytes", "gauge",
    "Total memory of the GPU, by device.", ("device",))


class GpuMemoryCollector(Collector):
    """GPU memory of this worker process, read at scrape time from an already imported torch.

    A process that never imported torch, or whose torch never initialised CUDA, reports nothing;
    this collector never initialises CUDA itself (that would break a forking pool).
    """

    families = (GPU_MEMORY_USED, GPU_MEMORY_TOTAL)

    def describe(self):
        return [f.new() for f in self.families]

    def collect(self):
        used, total = GPU_MEMORY_USED.new(), GPU_MEMORY_TOTAL.new()
        for device, allocated, size in gpu_memory():
            used.add_metric([device], allocated)
            total.add_metric([device], size)
        yield used
        yield total


def gpu_memory() -> list[tuple[str, int, int]]:
    """(device, allocated bytes, total bytes) for each CUDA device this process initialised."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    try:
        cuda = torch.cuda
        if not cuda.is_initialized():
            return []
        out = []
        for index in range(cuda.device_count()):
            size = cuda.get_device_properties(index).total_memory
            out.append((f"cuda:{index}", int(cuda.memory_allocated(index)), int(size)))
        return out
    except Exception:  # a broken driver must not break the scrape
        return []


_gpu_collector = GpuMemoryCollector()
REGISTRY.register(_gpu_collector)


NVML_UTILIZATION = Family(
    "braillejobs_gpu_utilization_ratio", "gauge",
    "Share of the last sample period (NVML: 1/6 s to 1 s) during which the GPU ran a kernel, "
    "0 to 1, by NVML device index (the whole device, every process on it).", ("gpu",))
NVML_MEMORY_USED = Family(
    "braillejobs_gpu_memory_used_bytes", "gauge",
    "GPU memory in use on the device (NVML: every process on it), by NVML device index.",
    ("gpu",))
NVML_MEMORY_TOTAL = Family(
    "braillejobs_gpu_memory_total_bytes", "gauge",
    "Memory of the GPU (NVML), by NVML device index.", ("gpu",))


class NvmlCollector(Collector):
    """Utilisation and memory of the host's NVIDIA GPUs, read from NVML (the nvidia-ml-py
    package, module ``pynvml``) at scrape time.

    Where the package or the driver's NVML library is absent (a CPU host), or a device cannot be
    read, the families are served without samples and nothing fails; NVML is initialised once,
    at the first scrape. ``nvml``: the module to use (default: ``pynvml``, imported then)."""

    families = (NVML_UTILIZATION, NVML_MEMORY_USED, NVML_MEMORY_TOTAL)

    def __init__(self, nvml: Any = None):
        self._nvml = nvml
        self._state = "new"  # "new", "ready" or "absent"
        self._lock = threading.Lock()

    def describe(self):
        return [f.new() for f in self.families]

    def _ready(self) -> bool:
        with self._lock:
            if self._state == "new":
                self._state = "absent"
                try:
                    if self._nvml is None:
                        import pynvml

                        self._nvml = pynvml
                    self._nvml.nvmlInit()
                    self._state = "ready"
                except Exception as exc:  # no package, no driver: a CPU host
                    log.info("no NVML here (%s: %s): GPU utilisation is not reported",
                             exc.__class__.__name__, exc)
            return self._state == "ready"

    def collect(self):
        util, used, total = (f.new() for f in self.families)
        if self._ready():
            for index, (busy, memory) in self._read().items():
                if busy is not None:
                    util.add_metric([index], busy / 100.0)
                if memory is not None:
                    used.add_metric([index], float(memory.used))
                    total.add_metric([index], float(memory.total))
        yield util
        yield used
        yield total

    def _read(self) -> dict[str, tuple[Any, Any]]:
        nvml = self._nvml
        out: dict[str, tuple[Any, Any]] = {}
        try:
            count = nvml.nvmlDeviceGetCount()
        except Exception as exc:
            log.warning("NVML cannot count the GPUs: %s", exc)
            return out
        for index in range(count):
            busy = memory = None
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
            except Exception as exc:
                log.warning("NVML cannot open GPU %d: %s", index, exc)
                continue
            try:
                busy = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
            except Exception:  # some devices (MIG instances) have no utilisation counter
                pass
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:
                pass
            out[str(index)] = (busy, memory)
        return out


_nvml_collector = NvmlCollector()
REGISTRY.register(_nvml_collector)


# ------------------------------------------------------------------ recording helpers (workers)
def primary_engine(requested: str) -> str:
    """The engine tried first for a requested engine name (``best`` resolved for this process;
    ``auto`` starts with the CNN)."""
    from .translate.registry import resolve
    requested = resolve(requested)
    return "cnn" if requested == "auto" else requested


def record_characters(requested_engine: str, chars_by_engine: Mapping[str, int]) -> None:
    """Count characters by the engine that translated them, and the ones that fell back."""
    first = primary_engine(requested_engine)
    for engine, count in chars_by_engine.items():
        if count <= 0:
            continue
        engine = _bounded(engine, ENGINES)
        CHARACTERS.labels(engine).inc(count)
        if engine != first:
            FALLBACK_CHARACTERS.labels(_bounded(first, ENGINES), engine).inc(count)


def record_latency(queue_wait: Iterable[float] = (), submit_to_done: Iterable[float] = ()
                   ) -> None:
    """Observe finished documents' time in the queue and from submit to done (seconds)."""
    for seconds in queue_wait:
        QUEUE_WAIT.observe(max(0.0, seconds))
    for seconds in submit_to_done:
        SUBMIT_TO_DONE.observe(max(0.0, seconds))


def record_submitted(mode: str, documents: int) -> None:
    if documents > 0:
        SUBMITTED_DOCUMENTS.labels(_bounded(mode, JOB_MODES)).inc(documents)


def record_document(status: str, fmt: str, *, requested_engine: str | None = None,
                    chars_by_engine: Mapping[str, int] | None = None, cells: int = 0,
                    seconds: float | None = None) -> None:
    """Record one finished document: status, its characters by engine, its cells, its time."""
    fmt = format_label(fmt)
    DOCUMENTS.labels(_bounded(status, DOCUMENT_STATUSES), fmt).inc()
    if chars_by_engine:
        record_characters(requested_engine or "louis", chars_by_engine)
    if cells:
        CELLS.labels(fmt).inc(cells)
    if seconds is not None:
        DOCUMENT_DURATION.labels(fmt).observe(seconds)


def record_transcribed(counts: Mapping[str, int]) -> None:
    """Count characters transcribed because braille has no sign for them, by kind."""
    for kind, count in counts.items():
        if count > 0:
            TRANSCRIBED_CHARACTERS.labels(_bounded(kind, TRANSCRIPTION_KINDS)).inc(count)


def record_corrections(counts: Mapping[str, int]) -> None:
    """Count the corrections applied in finished documents (print text -> uses)."""
    uses = sum(max(0, n) for n in counts.values())
    if uses:
        CORRECTIONS_APPLIED.inc(uses)


def record_dead_letter(kind: str) -> None:
    DEAD_LETTERS.labels(_bounded(kind, DEAD_LETTER_REASONS)).inc()


def record_resent(documents: int) -> None:
    if documents:
        RESENT_DOCUMENTS.inc(documents)


def record_batch(engine: str, characters: int) -> None:
    from .translate.registry import resolve
    BATCH_CHARACTERS.labels(_bounded(resolve(engine), ENGINES + ("auto",))).observe(characters)


def record_task(queue: str, status: str, seconds: float, documents: int | None = None) -> None:
    TASK_DURATION.labels(queue, _bounded(status, TASK_STATUSES)).observe(seconds)
    if documents is not None:
        TASK_DOCUMENTS.labels(queue).observe(documents)


def set_model_info(engine: str, version: str, device: str) -> None:
    MODEL_INFO.labels(_bounded(engine, ENGINES), version, device).set(1)


def count_cells(text: str) -> int:
    """Braille cells in a Unicode braille string (U+2800..U+28FF; the blank cell counts)."""
    return sum(1 for ch in text if "\u2800" <= ch <= "\u28ff")


# ------------------------------------------------------------------------- serving (workers)
def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def worker_registry() -> CollectorRegistry:
    """The registry a worker serves: the default one, or the aggregate of the process files."""
    if not multiprocess_dir():
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_gpu_collector)  # the serving process's own GPU, if any
    registry.register(_nvml_collector)
    return registry


_server_lock = threading.Lock()
_server = None


def start_worker_server(port: int, addr: str = "0.0.0.0", health=None):
    """Serve /metrics on ``port`` from a daemon thread (once per process). Returns the server.

    ``health``, when given, answers ``/healthz``: a callable returning ``(ok, message)``; the
    probe gets 200 with the message while ``ok``, else 503 (a liveness probe restarts the
    worker). Without it /healthz is not served."""
    global _server
    with _server_lock:
        if _server is None:
            _server = _serve(port, addr, worker_registry(), health)
        return _server


def _serve(port: int, addr: str, registry: CollectorRegistry, health):
    import socket
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    metrics_app = make_wsgi_app(registry)

    def app(environ, start_response):
        if health is not None and environ.get("PATH_INFO") == "/healthz":
            try:
                ok, message = health()
            except Exception as exc:  # a probe that cannot decide says why, and fails
                ok, message = False, f"health check failed: {exc}"
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [(message + "\n").encode()]
        return metrics_app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args) -> None:  # scrapes and probes are not log lines
            pass

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    httpd = make_server(addr, port, app, Server, handler_class=Quiet)
    threading.Thread(target=httpd.serve_forever, name="metrics-server", daemon=True).start()
    return httpd


def child_exited(pid: int) -> None:
    """Tell the multiprocess store that a forked pool process is gone (its live gauges drop)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# --------------------------------------------------------------------- fleet (the exporter)
# What the exporter's collector (braillejobs.fleet.exporter) yields at each scrape.
QUEUE_LENGTH = Family(
    "braillejobs_queue_length", "gauge",
    "Messages waiting in a broker queue (all priority lists; not those a worker has reserved).",
    ("queue",))
QUEUE_DOCUMENTS = Family(
    "braillejobs_queue_documents", "gauge",
    "Documents waiting in a broker queue: the document ids its waiting task messages carry "
    "(exact for the first messages of each queue that the exporter reads, estimated from their "
    "mean beyond).", ("queue",))
QUEUE_CONSUMERS = Family(
    "braillejobs_queue_consumers", "gauge",
    "Workers that answered the exporter's ping and consume the queue now.", ("queue",))
QUEUE_PAUSED = Family(
    "braillejobs_queue_paused", "gauge",
    "1 while the queue is paused (`braillejobs workers pause`), else 0.", ("queue",))
UNACKED_MESSAGES = Family(
    "braillejobs_unacked_messages", "gauge",
    "Messages delivered to workers and not yet acknowledged (running or reserved), all queues.")
DEAD_LETTER_MESSAGES = Family(
    "braillejobs_dead_letter_messages", "gauge",
    "Records in the dead-letter list (refused messages kept for an operator), by the queue or "
    "broadcast channel they came from.", ("queue",))
WORKERS_ONLINE = Family(
    "braillejobs_workers_online", "gauge",
    "Celery workers that answered the exporter's last ping (NaN until the exporter has reached "
    "the broker once: not knowing is not zero).")
WORKER_UP = Family(
    "braillejobs_worker_up", "gauge",
    "1 for each worker that answered the exporter's last ping, 0 for one that answered an "
    "earlier ping and not the last (forgotten after an hour), by its Celery hostname.",
    ("hostname",))
JOBS = Family("braillejobs_jobs", "gauge", "Jobs in the database, by state.", ("state",))
STORED_DOCUMENTS = Family("braillejobs_stored_documents", "gauge",
                          "Documents in the database, by status.", ("status",))
SUBMITTED_DOCUMENTS_STORED = Family(
    "braillejobs_submitted_documents", "counter",
    "Documents recorded by submit or convert, by how the job runs (queued, embedded), counted "
    "in the database (deleting jobs resets it, as a restart resets a counter).", ("mode",))
JOB_IDLE_MAX = Family(
    "braillejobs_unfinished_job_max_idle_seconds", "gauge",
    "Longest time any unfinished job has gone without one of its documents finishing "
    "(0 when no job is unfinished). High values mean a stuck job.")
OLDEST_QUEUED = Family(
    "braillejobs_oldest_queued_document_age_seconds", "gauge",
    "Time since the submission of the oldest document still queued (0 when none is).")
DATABASE_SIZE = Family(
    "braillejobs_database_size_bytes", "gauge",
    "Size of the database on disk (PostgreSQL: pg_database_size; SQLite: the file and its "
    "write-ahead log).")
EXPORTER_UP = Family(
    "braillejobs_exporter_source_up", "gauge",
    "Whether the exporter's last read of a source (broker, database) succeeded (1) or not (0).",
    ("source",))
EXPORTER_REFRESH_DURATION = Family(
    "braillejobs_exporter_refresh_duration_seconds", "gauge",
    "Time the exporter took to read the broker and the database at its last read.")

FLEET: tuple[Family, ...] = (
    QUEUE_LENGTH, QUEUE_DOCUMENTS, QUEUE_CONSUMERS, QUEUE_PAUSED, UNACKED_MESSAGES,
    DEAD_LETTER_MESSAGES, WORKERS_ONLINE, WORKER_UP, JOBS, STORED_DOCUMENTS,
    SUBMITTED_DOCUMENTS_STORED, JOB_IDLE_MAX, OLDEST_QUEUED, DATABASE_SIZE, EXPORTER_UP,
    EXPORTER_REFRESH_DURATION)


def text(registry: CollectorRegistry) -> bytes:
    """The exposition of ``registry`` (Prometheus's text format)."""
    return generate_latest(registry)


# ------------------------------------------------------------------------- the name catalogue
_WORKER_OBJECTS = (DOCUMENTS, CHARACTERS, FALLBACK_CHARACTERS, CELLS, DOCUMENT_DURATION,
                   TASK_DURATION, BATCH_CHARACTERS, TASK_DOCUMENTS, QUEUE_WAIT, SUBMIT_TO_DONE,
                   SUBMITTED_DOCUMENTS, TRANSCRIBED_CHARACTERS, CORRECTIONS_APPLIED, DEAD_LETTERS,
                   MODEL_INFO, BUILD_INFO)


def catalogue() -> list[Family]:
    """Every metric family braillejobs exports (workers and exporter), with its labels."""
    out = []
    for metric in _WORKER_OBJECTS:
        described = metric.describe()[0]
        out.append(Family(described.name, described.type, described.documentation,
                          tuple(metric._labelnames)))
    out.extend(GpuMemoryCollector.families)
    out.extend(NvmlCollector.families)
    out.extend(FLEET)
    return out


def exported_names() -> set[str]:
    """Every sample name braillejobs exports (counters with ``_total``, histograms with
    ``_bucket``/``_sum``/``_count``, ``_created`` too), for checks of dashboards and rules."""
    names: set[str] = set()
    for family in catalogue():
        names.update(_sample_names(family))
    return names


def sample_labels() -> dict[str, set[str]]:
    """Sample name -> the labels braillejobs puts on it (``le`` on histogram buckets)."""
    out: dict[str, set[str]] = {}
    for family in catalogue():
        for name in _sample_names(family):
            extra = {"le"} if name.endswith("_bucket") else set()
            out.setdefault(name, set()).update(set(family.labels) | extra)
    return out


def _sample_names(family: Family) -> set[str]:
    base = family.name
    kind = family.type
    if kind == "counter":
        return {base + "_total", base + "_created"}
    if kind == "histogram":
        return {base + s for s in ("_bucket", "_sum", "_count", "_created")}
    if kind == "summary":
        return {base, base + "_sum", base + "_count", base + "_created"}
    if kind == "info":
        return {base + "_info"}
    return {base}
