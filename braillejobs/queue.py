"""The Celery application: broker, queue, JSON-only messages, reliability settings.

Tasks carry ids only (a job id and document ids); the documents live in the database. Sending a
task needs only this module (no torch, no worker code): the admin host submits, workers started
by ``braillejobs worker`` (code in ``workers/``) run the tasks.
"""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from . import config

# Task names are part of the wire format between admin hosts and workers: never rename lightly.
TRANSLATE_DOCUMENTS = "braillejobs.translate_documents"

# Job priorities -> Redis priorities. kombu's Redis transport keeps one list per step of
# priority_steps and pops the lowest number first, so 0 is the most urgent.
PRIORITY_STEPS = [0, 3, 6, 9]
PRIORITIES = {"high": 0, "normal": 3, "low": 6}
# kombu names the list of a step other than 0 "<queue><separator><step>".
PRIORITY_SEPARATOR = "\x06\x16"


def queue_keys(queue: str) -> list[str]:
    """The Redis lists kombu keeps for ``queue``: one per priority step, most urgent first."""
    return [queue_key(queue, step) for step in PRIORITY_STEPS]


def queue_key(queue: str, priority: int = 0) -> str:
    """The Redis list that holds ``queue``'s messages of ``priority`` (as kombu files them:
    the highest step not above it)."""
    step = max(s for s in PRIORITY_STEPS if s <= max(0, min(priority, PRIORITY_STEPS[-1])))
    return queue + (f"{PRIORITY_SEPARATOR}{step}" if step else "")


# ---------------------------------------------------------------- queues by hardware
# One rule, used by submit, retry and the workers: neural jobs go to the GPU queue, liblouis jobs
# to the CPU queue, and default-engine jobs (``best``) to the GPU queue while a worker consumes
# it (unpaused), else to the CPU queue. A worker consumes the queue of its hardware: the GPU
# queue where ``best`` is the neural chain (a CUDA device), else the CPU queue.
NEURAL_ENGINES = ("cnn", "rnn", "auto")


def queue_for(engine: str, gpu_served: bool = False) -> str:
    """The queue a job of ``engine`` goes to (``gpu_served``: a worker consumes the GPU queue
    and it is not paused)."""
    if engine in NEURAL_ENGINES or (engine == "best" and gpu_served):
        return config.get("gpu_queue")
    return config.get("queue")


def hardware_queue() -> str:
    """The queue a worker on this host consumes by default."""
    from .translate.registry import resolve

    return config.get("gpu_queue") if resolve("best") == "auto" else config.get("queue")


class QueueError(RuntimeError):
    """The broker cannot be used; the message says what to do."""


def check_limits(time_limit: int, visibility_timeout: int) -> None:
    """Refuse a visibility timeout that would redeliver a task still running."""
    if visibility_timeout <= time_limit:
        raise QueueError(
            f"{config.setting('visibility_timeout').env_var}={visibility_timeout} must be longer "
            f"than {config.setting('task_time_limit').env_var}={time_limit}, or Redis would "
            "hand a running task to a second worker; raise the visibility timeout or lower the "
            "time limit")
    # A task that finds documents under another worker's recent claim sends itself again for
    # when that claim is stale (workers.tasks); that message must come due before Redis would
    # hand it out a second time, or the guarantee that someone finishes them is gone.
    from .db.state import stale_claim_seconds

    due = stale_claim_seconds(time_limit, visibility_timeout) + 1
    if due >= visibility_timeout:
        raise QueueError(
            f"{config.setting('visibility_timeout').env_var}={visibility_timeout} leaves no room "
            f"after {config.setting('task_time_limit').env_var}={time_limit}: a document whose "
            f"worker died is looked at again {due:.0f} s after its claim, which must be sooner "
            f"than the visibility timeout; make the visibility timeout at least "
            f"{time_limit + 4} s (twice the time limit is usual)")


# Settings of a Celery app that must name JSON only: pickle would let anyone who can write to the
# broker run code on every worker.
_SERIALIZER_KEYS = ("task_serializer", "result_serializer", "event_serializer",
                    "accept_content", "result_accept_content", "event_accept_content")


def check_serializers(conf) -> None:
    """Refuse a Celery configuration that would accept or send anything but JSON."""
    for key in _SERIALIZER_KEYS:
        value = conf.get(key)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        bad = [v for v in values if str(v).lower() not in ("json", "application/json")]
        if bad:
            what = "pickle, which runs code sent through the broker" if any(
                "pickle" in str(v).lower() for v in bad) else ", ".join(map(str, bad))
            raise QueueError(f"Celery setting {key}={value!r} allows {what}; braillejobs "
                             f"speaks JSON only: set {key} to 'json' (or ['json'])")


def make_app(broker_url: str | None = None, queue: str | None = None) -> Celery:
    """A Celery app configured from the settings (arguments override them)."""
    broker_url = broker_url or config.get("broker_url")
    queue = queue or config.get("queue")
    time_limit = config.get("task_time_limit")
    visibility = config.get("visibility_timeout")
    app = Celery("braillejobs", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=time_limit,
        task_soft_time_limit=max(1, int(time_limit * 0.9)),
        task_default_queue=queue,
        task_routes={TRANSLATE_DOCUMENTS: {"queue": queue}},
        task_queue_max_priority=max(PRIORITY_STEPS),
        task_default_priority=PRIORITIES["normal"],
        broker_transport_options={
            "visibility_timeout": visibility,
            "priority_steps": PRIORITY_STEPS,
            "queue_order_strategy": "priority",
            # Look for messages of dead workers (unacknowledged past the visibility timeout)
            # every few seconds rather than kombu's ~100 s, so that they go back in good time.
            "unacked_restore_interval": max(1, min(10, visibility // 10)),
            "unacked_restore_throttle": 1,
            # A worker killed while it held the restore lock would hold up every restore for
            # kombu's 300 s; the scan takes milliseconds.
            "unacked_mutex_expire": min(300, max(5, visibility // 4)),
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Celery's own monitoring (Flower, `celery events`, celery-exporter) reads task
        # events; "sent" events let it show a task from the moment it is queued.
        worker_send_task_events=config.get("worker_events"),
        task_send_sent_event=config.get("worker_events"),
        enable_utc=True,
    )
    check_serializers(app.conf)
    return app


@lru_cache(maxsize=8)
def _cached_app(broker_url: str, queue: str) -> Celery:
    return make_app(broker_url, queue)


def get_app() -> Celery:
    """The Celery app of the current settings (built once per broker and queue)."""
    return _cached_app(config.get("broker_url"), config.get("queue"))


def __getattr__(name: str):
    """``braillejobs.queue.app``: the module-level app that Celery's own tools load
    (``celery -A braillejobs.queue:app inspect ping``, Flower), from the settings in the
    environment when first asked for."""
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def send_chunks(job_id: str, chunks: list[list[int]], priority: str,
                queue: str | None = None) -> int:
    """Queue one translate task per chunk of document ids on ``queue`` (default: the CPU
    queue); returns how many were sent."""
    if not chunks:
        return 0
    celery = get_app()
    url = config.mask_url(config.get("broker_url"))
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
            with celery.producer_or_acquire() as producer:
                for ids in chunks:
                    celery.send_task(TRANSLATE_DOCUMENTS, args=[job_id, ids],
                                     queue=queue or config.get("queue"),
                                     priority=PRIORITIES[priority], producer=producer)
    except Exception as exc:  # kombu raises several connection error types
        if isinstance(exc, QueueError):
            raise
        raise QueueError(f"cannot queue tasks on the broker {url} ({exc.__class__.__name__}: "
                         f"{exc}); start Redis or set {config.setting('broker_url').env_var}, "
                         "then run `braillejobs retry JOB`") from None
    return len(chunks)


def check_broker() -> None:
    """Fail early, with a message, when the broker cannot be reached."""
    url = config.mask_url(config.get("broker_url"))
    try:
        with get_app().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0.2)
    except Exception as exc:
        raise QueueError(f"cannot reach the broker {url} ({exc.__class__.__name__}); start "
                         f"Redis or set {config.setting('broker_url').env_var}") from None
