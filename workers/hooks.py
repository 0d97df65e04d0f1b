"""The worker's side of fleet operation: metrics, the info command, paused queues.

``braillejobs worker`` calls :func:`install` once, with the app and the task hooks list, before
the worker starts. It then:

* serves Prometheus /metrics on the ``metrics_port`` setting (0: off) from a thread, with
  /healthz for a liveness probe: it fails once the consumer loop has not run for
  ``liveness_seconds`` (the server's thread stays up when the consumer hangs, so answering
  /metrics proves nothing);
* counts documents, characters by engine, fallbacks, cells, durations, queue wait and submit-to-
  done latency after every task (from the pipeline's ``Stats``), and times every task by queue
  and outcome;
* answers ``braillejobs_info`` (device, GPU memory, loaded models, version) for
  ``braillejobs workers list``;
* leaves a queue that ``braillejobs workers pause`` paused still paused when it starts;
* says in Redis, every few seconds from its consumer loop, which queues it consumes
  (``braillejobs.fleet.presence``), and takes that back when it stops;
* every ``lost_message_seconds``, from a thread of its own (the check reads the database, which
  must never hold up the consumer loop), takes its turn at sending again the queued documents
  whose task message the broker lost (``braillejobs.fleet.recovery``).

A failing metric must never fail a task: every hook here logs and carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from celery import signals
from celery.worker.control import inspect_command

from braillejobs import __version__, config, metrics
from braillejobs.config import ConfigError
from braillejobs.fleet import presence, recovery
from braillejobs.fleet.control import INFO_COMMAND, PAUSED_KEY

log = logging.getLogger("braillejobs.worker")

_installed = False
_started: dict[str, float] = {}
_started_lock = threading.Lock()


def install(app, chunk_hooks: list[Callable[[Any], None]] | None = None,
            queues: list[str] | None = None) -> None:
    """Hook metrics and fleet control into a worker (idempotent). ``queues``: those it consumes
    (their task series start at 0)."""
    global _installed
    if chunk_hooks is not None and record_stats not in chunk_hooks:
        chunk_hooks.append(record_stats)
    metrics.initialise_queue_series(queues or ())
    if _installed:
        return
    _installed = True
    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
    signals.worker_ready.connect(_worker_ready, weak=False)
    signals.worker_ready.connect(_start_presence, weak=False)
    signals.worker_ready.connect(_start_lost_message_check, weak=False)
    signals.worker_shutdown.connect(_withdraw_presence, weak=False)
    signals.worker_shutdown.connect(_stop_lost_message_check, weak=False)
    signals.worker_process_shutdown.connect(_process_shutdown, weak=False)
    port = config.get("metrics_port")
    if port:
        try:
            metrics.start_worker_server(port, health=health)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on port {port} ({exc}); free the port or set "
                f"{config.setting('metrics_port').env_var} to another one (0 turns it off)"
            ) from None
        log.info("serving Prometheus metrics on port %d", port)
    note_models()


# --------------------------------------------------------------------------------- metrics
def record_stats(stats) -> None:
    """Count what one task did (a :class:`braillejobs.pipeline.Stats`)."""
    fmt = metrics.format_label(stats.format or config.get("format"))
    if stats.done:
        metrics.DOCUMENTS.labels("done", fmt).inc(stats.done)
    if stats.failed:
        metrics.DOCUMENTS.labels("failed", fmt).inc(stats.failed)
    metrics.record_characters(stats.engine or config.get("engine"), stats.chars_by_engine)
    metrics.record_transcribed(stats.transcribed)
    metrics.record_corrections(stats.corrections)
    if stats.cells:
        metrics.CELLS.labels(fmt).inc(stats.cells)
    for seconds in stats.document_seconds:
        metrics.DOCUMENT_DURATION.labels(fmt).observe(seconds)
    metrics.record_latency(stats.queue_wait_seconds, stats.submit_to_done_seconds)
    for chars in stats.batch_chars:
        metrics.record_batch(stats.engine or config.get("engine"), chars)
    note_models()


def record_dead_letter(refusal) -> None:
    """Count one message the gate refused (a :class:`braillejobs.messages.Refusal`)."""
    metrics.record_dead_letter(refusal.kind)


def _queue_of(task) -> str:
    info = getattr(task.request, "delivery_info", None) or {}
    return info.get("routing_key") or info.get("queue") or config.get("queue")


def _task_prerun(sender=None, task_id=None, task=None, args=None, **_kw) -> None:
    with _started_lock:
        _started[task_id] = time.perf_counter()
    try:
        if args and len(args) >= 2 and isinstance(args[1], (list, tuple)):
            metrics.TASK_DOCUMENTS.labels(_queue_of(task)).observe(len(args[1]))
    except Exception:
        log.exception("task metrics failed")


def _task_postrun(sender=None, task_id=None, task=None, state=None, **_kw) -> None:
    with _started_lock:
        started = _started.pop(task_id, None)
    if started is None:
        return
    try:
        status = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(
            state or "", "failure")
        metrics.record_task(_queue_of(task), status, time.perf_counter() - started)
    except Exception:
        log.exception("task metrics failed")


def _process_shutdown(pid=None, **_kw) -> None:
    if pid:
        metrics.child_exited(pid)


# ------------------------------------------------------------------------------- models
def loaded_engines() -> list[Any]:
    """The engines this process has built (the engine module caches one per name and table)."""
    from braillejobs.translate.registry import loaded_engines as engines

    return engines()


def models() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen = set()
    for engine in loaded_engines():
        taggers = [getattr(engine, "primary", None), getattr(engine, "fallback", None)]
        for tagger in taggers:
            if tagger is None:
                continue
            row = {"engine": str(getattr(tagger, "arch", engine.name)),
                   "version": str(getattr(tagger, "version", "?")),
                   "device": str(getattr(tagger, "device", "cpu"))}
            if tuple(row.values()) not in seen:
                seen.add(tuple(row.values()))
                out.append(row)
        if getattr(engine, "name", "") == "louis" or hasattr(engine, "louis"):
            row = {"engine": "louis", "version": _louis_version(), "device": "cpu"}
            if tuple(row.values()) not in seen:
                seen.add(tuple(row.values()))
                out.append(row)
    return out


def _louis_version() -> str:
    try:
        from braillejobs.translate.louis_engine import load_louis

        return "liblouis-" + load_louis().version()
    except Exception:
        return "?"


def note_models() -> None:
    try:
        for row in models():
            metrics.set_model_info(row["engine"], row["version"], row["device"])
    except Exception:
        log.exception("reading the loaded models failed")


def device() -> str:
    devices = {m["device"] for m in models() if m["engine"] != "louis"}
    if devices:
        return ",".join(sorted(devices))
    return "cpu"


# --------------------------------------------------------------------- remote control
@inspect_command(name=INFO_COMMAND)
def braillejobs_info(state) -> dict[str, Any]:
    """What ``braillejobs workers list`` shows beyond Celery's own stats."""
    consumer = state.consumer
    consuming = {q.name for q in consumer.task_consumer.queues} if consumer.task_consumer \
        else set()
    paused = []
    try:
        with consumer.app.connection_for_write() as conn:
            client = conn.default_channel.client
            for queue in _configured_queues(consumer):
                if queue not in consuming and client.exists(PAUSED_KEY.format(queue=queue)):
                    paused.append(queue)
    except Exception:
        log.exception("reading paused queues failed")
    return {
        "version": __version__,
        "device": device(),
        "gpu_memory": [{"device": d, "used_bytes": used, "total_bytes": total}
                       for d, used, total in metrics.gpu_memory()],
        "models": models(),
        "metrics_port": config.get("metrics_port") or None,
        "paused": paused,
    }


def _configured_queues(consumer) -> list[str]:
    return sorted(consumer.app.amqp.queues.consume_from or consumer.app.amqp.queues)


# ------------------------------------------------------------------------- paused queues
def _worker_ready(sender=None, **_kw) -> None:
    """A queue paused fleet-wide stays paused for a worker that starts meanwhile."""
    consumer = sender
    if consumer is None or not hasattr(consumer, "cancel_task_queue"):
        return
    try:
        with consumer.app.connection_for_write() as conn:
            client = conn.default_channel.client
            for queue in [q.name for q in consumer.task_consumer.queues]:
                key = PAUSED_KEY.format(queue=queue)
                if client.exists(key):
                    consumer.cancel_task_queue(queue)
                    client.sadd(key, consumer.hostname)
                    log.warning("queue %s is paused (braillejobs workers resume %s): not "
                                "consuming it", queue, queue)
    except Exception:
        log.exception("checking paused queues failed")


# ----------------------------------------------------------------------------- presence
_presence: dict[str, Any] = {}
TICK_SECONDS = 1.0   # the consumer timer marks it is alive this often (for /healthz)


def _start_presence(sender=None, **_kw) -> None:
    """Announce the consumed queues now and then every few seconds, from the consumer's own
    timer: when the consumer loop hangs, the announcements stop and the worker drops out."""
    consumer = sender
    if consumer is None or not hasattr(consumer, "timer"):
        return
    _presence["consumer"] = consumer
    _presence["tick"] = time.monotonic()
    _announce(consumer)
    consumer.timer.call_repeatedly(presence.INTERVAL, _announce, (consumer,))
    consumer.timer.call_repeatedly(TICK_SECONDS, _tick)


def _tick() -> None:
    _presence["tick"] = time.monotonic()


def health() -> tuple[bool, str]:
    """The liveness answer: is the consumer loop (which takes messages, answers remote control
    and runs the timers) still turning? ``(ok, message)`` for /healthz."""
    tick = _presence.get("tick")
    if tick is None:
        return True, "starting: the consumer has not started yet"
    age = time.monotonic() - tick
    limit = config.get("liveness_seconds")
    if age > limit:
        return False, (f"hung: the consumer loop has not run for {age:.0f} s "
                       f"(limit {limit:g} s, setting liveness_seconds)")
    return True, f"ok: the consumer loop ran {age:.1f} s ago"


def _consumed(consumer) -> list[str]:
    return [q.name for q in consumer.task_consumer.queues]


def _announce(consumer) -> None:
    try:
        queues = _consumed(consumer)
        with consumer.app.connection_for_write() as conn:
            presence.announce(conn.default_channel.client, consumer.hostname, queues)
        _presence["last"] = time.monotonic()
        _presence["queues"] = set(_presence.get("queues", ())) | set(queues)
    except Exception as exc:  # the broker may be away for a while; the next beat tries again
        log.warning("could not announce the consumed queues: %s", exc)


def _withdraw_presence(**_kw) -> None:
    consumer = _presence.get("consumer")
    if consumer is None:
        return
    try:
        with consumer.app.connection_for_write() as conn:
            queues = _presence.get("queues", set())   # the consumer is closed by now
            presence.withdraw(conn.default_channel.client, consumer.hostname, queues)
    except Exception as exc:
        log.warning("could not withdraw the consumed queues: %s", exc)


# ------------------------------------------------------------------------- lost messages
_lost_stop = threading.Event()


def _start_lost_message_check(sender=None, **_kw) -> None:
    seconds = config.get("lost_message_seconds")
    consumer = sender
    if not seconds or seconds <= 0 or consumer is None or not hasattr(consumer, "app"):
        return
    _lost_stop.clear()
    threading.Thread(target=_lost_message_loop, args=(consumer.app, consumer.hostname, seconds),
                     name="braillejobs-lost-messages", daemon=True).start()


def _stop_lost_message_check(**_kw) -> None:
    _lost_stop.set()


def _lost_message_loop(app, node: str, seconds: float) -> None:
    while not _lost_stop.wait(seconds):
        try:
            with app.connection_for_write() as conn:
                client = conn.default_channel.client
                if not recovery.take_turn(client, node, seconds):
                    continue
                done = recovery.check(client, seconds)
            metrics.record_resent(done.documents)
        except Exception as exc:  # the broker or the database away: the next turn tries again
            log.warning("lost-message check failed (%s: %s); the next one is in %.0f s",
                        exc.__class__.__name__, exc, seconds)
