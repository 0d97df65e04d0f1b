"""Every Prometheus metric of braillejobs, defined once.

Naming follows Prometheus practice: the ``braillejobs_`` prefix, base units (seconds, bytes),
``_total`` for counters, ``_seconds`` for durations. Labels are few and of low cardinality
(engine, status, queue, format, state, device); a job or document id is never a label.

Two sets of metrics live here:

* Worker metrics, in the default registry: what a worker did (documents, characters by engine,
  braille cells, fallbacks, durations, batch sizes) plus its GPU memory, model and build info. A
  worker serves them on ``metrics_port`` (:func:`start_worker_server`). When the environment names
  ``PROMETHEUS_MULTIPROC_DIR`` (a pool that forks), the values live in files shared by the
  processes and the server aggregates them.
* Fleet metrics, in :data:`FLEET_REGISTRY`: queue lengths from Redis and job/document counts from
  the database, served by ``braillejobs exporter`` and refreshed at each scrape.

This module must not import torch: GPU memory is read at scrape time from a torch that the worker
has already imported, and only then.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
from typing import Iterable, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    REGISTRY,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from . import __version__
from .formats.charset import KINDS as TRANSCRIPTION_KINDS
from .messages import KINDS

NAMESPACE = "braillejobs"

# The values a label may take. Anything else is folded into "other" so that a bug or a hostile
# input can never create an unbounded number of series.
ENGINES = ("louis", "cnn", "rnn")
DOCUMENT_STATUSES = ("done", "failed", "cancelled")
TASK_STATUSES = ("success", "failure", "retry")
FORMATS = ("unicode", "brf", "pef")
DEAD_LETTER_REASONS = KINDS  # why a worker refuses a message (braillejobs.messages)

_DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
                     1800, 3600)
_CHAR_BUCKETS = (100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000, 500_000,
                 1_000_000, 5_000_000)
_DOC_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 1000)


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
TRANSCRIBED_CHARACTERS = Counter(
    "braillejobs_transcribed_characters",
    "Characters that braille has no sign for, transcribed in finished documents, by how (level: "
    "superscript and subscript characters as level indicators; transliterated: other scripts in "
    "a transcriber's note; emoji and named: named in a note; compatibility: written as the "
    "characters they stand for; invisible: joiners and variation selectors, left out).",
    ["kind"])
for _kind in TRANSCRIPTION_KINDS:
    TRANSCRIBED_CHARACTERS.labels(_kind)
DEAD_LETTERS = Counter(
    "braillejobs_dead_letters",
    "Messages a worker refused to run and moved to the dead-letter list, by reason (envelope, "
    "encoding, properties, headers, task, body, arguments, too_large).",
    ["reason"])
for _reason in DEAD_LETTER_REASONS:  # every series from the start: rate() has data at once
    DEAD_LETTERS.labels(_reason)
MODEL_INFO = Gauge(
    "braillejobs_model_info",
    "The model a worker loaded for an engine (value 1): its version and the device it runs on.",
    ["engine", "version", "device"], multiprocess_mode="max")
BUILD_INFO = Gauge(
    "braillejobs_build_info",
    "Version of braillejobs and of Python in this process (value 1).",
    ["version", "python"], multiprocess_mode="max")
BUILD_INFO.labels(__version__, platform.python_version()).set(1)

GPU_MEMORY_USED = "braillejobs_worker_gpu_memory_used_bytes"
GPU_MEMORY_TOTAL = "braillejobs_worker_gpu_memory_total_bytes"


class GpuMemoryCollector(Collector):
    """GPU memory of this worker process, read at scrape time from an already imported torch.

    A process that never imported torch, or whose torch never initialised CUDA, reports nothing;
    this collector never initialises CUDA itself (that would break a forking pool).
    """

    def describe(self):
        return [GaugeMetricFamily(GPU_MEMORY_USED, "GPU memory allocated by this worker's "
                                  "tensors, by device.", labels=["device"]),
                GaugeMetricFamily(GPU_MEMORY_TOTAL, "Total memory of the GPU, by device.",
                                  labels=["device"])]

    def collect(self):
        used = GaugeMetricFamily(GPU_MEMORY_USED, "GPU memory allocated by this worker's "
                                 "tensors, by device.", labels=["device"])
        total = GaugeMetricFamily(GPU_MEMORY_TOTAL, "Total memory of the GPU, by device.",
                                  labels=["device"])
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


def record_dead_letter(kind: str) -> None:
    DEAD_LETTERS.labels(_bounded(kind, DEAD_LETTER_REASONS)).inc()


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
    return registry


_server_lock = threading.Lock()
_server = None


def start_worker_server(port: int, addr: str = "0.0.0.0"):
    """Serve /metrics on ``port`` from a daemon thread (once per process). Returns the server."""
    global _server
    from prometheus_client import start_http_server

    with _server_lock:
        if _server is None:
            server, _thread = start_http_server(port, addr=addr, registry=worker_registry())
            _server = server
        return _server


def child_exited(pid: int) -> None:
    """Tell the multiprocess store that a forked pool process is gone (its live gauges drop)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# --------------------------------------------------------------------- fleet (the exporter)
FLEET_REGISTRY = CollectorRegistry(auto_describe=True)

QUEUE_LENGTH = Gauge(
    "braillejobs_queue_length",
    "Messages waiting in a broker queue (not counting those a worker has reserved).",
    ["queue"], registry=FLEET_REGISTRY)
DEAD_LETTER_MESSAGES = Gauge(
    "braillejobs_dead_letter_messages",
    "Records in the dead-letter list (refused messages kept for an operator), by the queue or "
    "broadcast channel they came from.",
    ["queue"], registry=FLEET_REGISTRY)
JOBS = Gauge(
    "braillejobs_jobs",
    "Jobs in the database, by state.",
    ["state"], registry=FLEET_REGISTRY)
STORED_DOCUMENTS = Gauge(
    "braillejobs_stored_documents",
    "Documents in the database, by status.",
    ["status"], registry=FLEET_REGISTRY)
JOB_IDLE_MAX = Gauge(
    "braillejobs_unfinished_job_max_idle_seconds",
    "Longest time any unfinished job has gone without one of its documents finishing "
    "(0 when no job is unfinished). High values mean a stuck job.",
    registry=FLEET_REGISTRY)
WORKERS_ONLINE = Gauge(
    "braillejobs_workers_online",
    "Celery workers that answered the exporter's last ping (NaN until the exporter has reached "
    "the broker once: not knowing is not zero).",
    registry=FLEET_REGISTRY)
WORKERS_ONLINE.set(float("nan"))
EXPORTER_UP = Gauge(
    "braillejobs_exporter_source_up",
    "Whether the exporter's last read of a source (broker, database) succeeded (1) or not (0).",
    ["source"], registry=FLEET_REGISTRY)
EXPORTER_SCRAPE_DURATION = Gauge(
    "braillejobs_exporter_refresh_duration_seconds",
    "Time the exporter took to read the broker and the database at the last scrape.",
    registry=FLEET_REGISTRY)
FLEET_REGISTRY.register(BUILD_INFO)


def set_labelled(gauge: Gauge, values: Mapping[str, float], known: Iterable[str] = ()) -> None:
    """Replace the children of a one-label gauge: one per value in ``values``, and 0 for each
    ``known`` value missing there; series whose value disappeared go. Callers serialise this
    with the exposition (the exporter holds one lock for refresh and render)."""
    wanted = dict.fromkeys(known, 0.0)
    wanted.update(values)
    gauge.clear()
    for label, value in wanted.items():
        gauge.labels(label).set(value)


def fleet_metrics_text() -> bytes:
    return generate_latest(FLEET_REGISTRY)


# ------------------------------------------------------------------------- the name catalogue
def exported_names() -> set[str]:
    """Every sample name braillejobs exports (counters with ``_total``, histograms with
    ``_bucket``/``_sum``/``_count``, ``_created`` too), for checks of dashboards and rules."""
    names: set[str] = set()
    for registry in (REGISTRY, FLEET_REGISTRY):
        for collector in list(registry._collector_to_names):
            if collector is not _gpu_collector and registry is REGISTRY and \
                    not _is_ours(collector):
                continue
            for family in _describe(collector):
                if not family.name.startswith(NAMESPACE + "_"):
                    continue
                names.update(_sample_names(family))
    return names


def _is_ours(collector) -> bool:
    name = getattr(collector, "_name", "")
    return isinstance(name, str) and name.startswith(NAMESPACE + "_")


def _describe(collector):
    describe = getattr(collector, "describe", None)
    families = describe() if describe else []
    return families or list(collector.collect())


def _sample_names(family) -> set[str]:
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
