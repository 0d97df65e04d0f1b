"""Steering the worker fleet over Celery's remote control, and reading the queues from Redis.

Everything here runs on an admin host: it needs the broker, never torch or the worker code.
Workers answer remote-control messages from their consumer thread, which stays free while a task
runs because ``braillejobs worker`` uses the ``threads`` pool (never ``solo``, whose one thread
runs the task and the consumer both, so a busy solo worker would look dead).

Pausing a queue is recorded in Redis (``braillejobs:paused:<queue>``, the hostnames it was taken
from): ``resume`` gives the queue back to exactly those workers, and a worker that starts while
its queue is paused leaves it paused (see ``workers/hooks.py``).

What Celery's command line already does on this fleet is left to it: ``celery -A
braillejobs.queue:app inspect ping``, ``inspect active``, ``control shutdown -d HOST``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from .. import config
from ..queue import PRIORITY_STEPS, QueueError, get_app as celery_app, queue_keys

DEFAULT_TIMEOUT = 2.0
INFO_COMMAND = "braillejobs_info"
PAUSED_KEY = "braillejobs:paused:{queue}"


class FleetError(RuntimeError):
    """An operation on the fleet cannot be done; the message says what to do."""


@dataclass
class WorkerInfo:
    hostname: str
    queues: list[str] = field(default_factory=list)
    pool: str = ""
    concurrency: int | None = None
    active: int = 0
    reserved: int = 0
    processed: int = 0
    pid: int | None = None
    uptime_s: float | None = None
    device: str | None = None
    gpu_memory: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, str]] = field(default_factory=list)
    version: str | None = None
    metrics_port: int | None = None
    paused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def broker_down(exc: Exception) -> FleetError:
    """The one message for a broker that cannot be reached: the URL, the error, the fix."""
    url = config.mask_url(config.get("broker_url"))
    detail = str(exc).splitlines()[0] if str(exc).strip() else ""
    return FleetError(f"cannot reach the broker {url} ({exc.__class__.__name__}"
                      f"{': ' + detail if detail else ''}); start Redis or set "
                      f"{config.setting('broker_url').env_var}")


# ------------------------------------------------------------------------------ broadcasting
def _app(app=None):
    return app if app is not None else celery_app()


def _merge(replies: Iterable[dict] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for reply in replies or []:
        merged.update(reply)
    return merged


def _send(app, command: str, **kwargs) -> list[dict] | None:
    """One broadcast, its replies collected on a connection of its own.

    On the app's pooled connection, a wait for replies that ends before kombu's Redis read
    (BRPOP, 1 s) leaves that read in flight, and it swallows the first reply of the next
    broadcast: `workers list --timeout 0.5` lost the workers' stats, and submit (0.5 s) saw no
    consumer on a queue that had one."""
    try:
        with app.connection_for_write() as conn:
            return app.control.broadcast(command, reply=True, connection=conn, **kwargs)
    except Exception as exc:  # kombu raises several connection error types
        raise broker_down(exc) from None


def _broadcast(command: str, *, app=None, destination: list[str] | None = None,
               timeout: float = DEFAULT_TIMEOUT, arguments: dict | None = None,
               limit: int | None = None) -> dict[str, Any]:
    return _merge(_send(_app(app), command, arguments=arguments or {},
                        destination=destination, timeout=timeout, limit=limit))


def ping(*, app=None, destination: list[str] | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> dict[str, float]:
    """Hostname -> round-trip seconds for every worker that answers within ``timeout``."""
    check_reachable(app)  # fail in a fraction of a second, not after Celery's retries
    started = time.perf_counter()
    seen: dict[str, float] = {}

    def note(reply):
        for host in reply:
            seen.setdefault(host, time.perf_counter() - started)

    _send(_app(app), "ping", destination=destination, timeout=timeout, callback=note,
          limit=len(destination) if destination else None)
    return dict(sorted(seen.items()))


def _hosts(app, destination, timeout) -> list[str]:
    hosts = list(ping(app=app, destination=destination, timeout=timeout))
    if destination:
        missing = [h for h in destination if h not in hosts]
        if missing:
            raise FleetError(f"no answer from {', '.join(missing)} within {timeout:g} s; "
                             "check the name with `braillejobs workers list` or raise --timeout")
    return hosts


def list_workers(*, app=None, destination: list[str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> list[WorkerInfo]:
    """Every worker that answers, with its queues, pool, load, device, models and uptime."""
    app = _app(app)
    hosts = _hosts(app, destination, timeout)
    if not hosts:
        return []
    ask = dict(app=app, destination=hosts, timeout=timeout, limit=len(hosts))
    stats = _broadcast("stats", **ask)
    queues = _broadcast("active_queues", **ask)
    active = _broadcast("active", **ask)
    reserved = _broadcast("reserved", **ask)
    info = _broadcast(INFO_COMMAND, **ask)
    out = []
    for host in hosts:
        s = stats.get(host) or {}
        pool = s.get("pool") or {}
        extra = info.get(host) if isinstance(info.get(host), dict) else {}
        if "error" in extra:
            extra = {}
        w = WorkerInfo(
            hostname=host,
            queues=sorted(q["name"] for q in queues.get(host) or [] if isinstance(q, dict)),
            pool=_pool_name(pool.get("implementation", "")),
            concurrency=pool.get("max-concurrency"),
            active=len(active.get(host) or []),
            reserved=len(reserved.get(host) or []),
            processed=sum((s.get("total") or {}).values()),
            pid=s.get("pid"),
            uptime_s=s.get("uptime"),
            device=extra.get("device"),
            gpu_memory=extra.get("gpu_memory") or [],
            models=extra.get("models") or [],
            version=extra.get("version"),
            metrics_port=extra.get("metrics_port"),
            paused=extra.get("paused") or [],
        )
        out.append(w)
    return out


def _pool_name(implementation: str) -> str:
    # "celery.concurrency.thread:TaskPool" -> "threads"
    module = implementation.split(":")[0].rsplit(".", 1)[-1]
    return {"thread": "threads", "prefork": "prefork", "solo": "solo", "eventlet": "eventlet",
            "gevent": "gevent"}.get(module, module or "?")


# ----------------------------------------------------------------------- pause and resume
def broker_redis(app=None):
    """The Redis client of the broker connection (the broker is Redis by design)."""
    conn = _app(app).connection_for_write()
    try:
        return conn, conn.default_channel.client
    except Exception as exc:
        conn.release()
        raise broker_down(exc) from None


def paused_queues(app=None) -> dict[str, list[str]]:
    """Queue -> the hosts it was paused on, for every queue paused through this module."""
    conn, client = broker_redis(app)
    try:
        prefix = PAUSED_KEY.format(queue="")
        out = {}
        for key in client.scan_iter(match=prefix + "*"):
            key = key.decode() if isinstance(key, bytes) else key
            members = client.smembers(key)
            out[key[len(prefix):]] = sorted(m.decode() if isinstance(m, bytes) else m
                                            for m in members)
        return out
    finally:
        conn.release()


def _check_replies(replies: dict[str, Any], hosts: list[str], what: str) -> dict[str, str]:
    result = {}
    for host in hosts:
        reply = replies.get(host)
        if reply is None:
            result[host] = f"no answer to {what}"
        elif isinstance(reply, dict) and "error" in reply:
            result[host] = f"error: {reply['error']}"
        else:
            result[host] = (reply.get("ok") if isinstance(reply, dict) else str(reply)) or "ok"
    return result


def pause(queue: str, *, app=None, destination: list[str] | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """Stop consuming ``queue`` on every worker (or those named) that consumes it."""
    app = _app(app)
    consumers = queue_consumers(app=app, destination=destination, timeout=timeout)
    hosts = consumers.get(queue, [])
    if not hosts:
        already = paused_queues(app).get(queue)
        if already:
            raise FleetError(f"queue {queue!r} is already paused (on {', '.join(already)}); "
                             f"`braillejobs workers resume {queue}` gives it back")
        raise FleetError(f"no worker that answers consumes queue {queue!r}; "
                         "see `braillejobs workers list`")
    conn, client = broker_redis(app)
    try:
        client.sadd(PAUSED_KEY.format(queue=queue), *hosts)
    finally:
        conn.release()
    replies = _broadcast("cancel_consumer", app=app, destination=hosts, timeout=timeout,
                         arguments={"queue": queue}, limit=len(hosts))
    return _check_replies(replies, hosts, "cancel_consumer")


def resume(queue: str, *, app=None, destination: list[str] | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """Start consuming ``queue`` again on the workers it was paused on (or those named)."""
    app = _app(app)
    key = PAUSED_KEY.format(queue=queue)
    conn, client = broker_redis(app)
    try:
        recorded = sorted(m.decode() if isinstance(m, bytes) else m
                          for m in client.smembers(key))
    finally:
        conn.release()
    hosts = list(destination or recorded)
    if not hosts:
        raise FleetError(f"queue {queue!r} is not paused (no record of a pause); name the "
                         "workers to give it to with --destination")
    alive = ping(app=app, destination=hosts, timeout=timeout)
    replies = _broadcast("add_consumer", app=app, destination=list(alive) or hosts,
                         timeout=timeout, arguments={"queue": queue}, limit=len(alive) or None)
    result = _check_replies(replies, hosts, "add_consumer")
    conn, client = broker_redis(app)
    try:
        if destination:
            client.srem(key, *hosts)
        else:
            client.delete(key)
    finally:
        conn.release()
    return result


def queue_consumers(*, app=None, destination: list[str] | None = None,
                    timeout: float = DEFAULT_TIMEOUT, answered: list[str] | None = None
                    ) -> dict[str, list[str]]:
    """Queue -> the workers consuming it. ``answered``: hosts that just answered a ping."""
    app = _app(app)
    hosts = answered if answered is not None else _hosts(app, destination, timeout)
    if not hosts:
        return {}
    replies = _broadcast("active_queues", app=app, destination=hosts, timeout=timeout,
                         limit=len(hosts))
    out: dict[str, list[str]] = {}
    for host in hosts:
        for q in replies.get(host) or []:
            out.setdefault(q["name"], []).append(host)
    return out


# ------------------------------------------------------------------------------------ drain
def drain(host: str, *, app=None, timeout: float = DEFAULT_TIMEOUT, wait: float = 3600.0,
          poll: float = 1.0, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Take no more work on ``host``, let its current tasks finish, then shut it down.

    Returns what happened: the queues it stopped consuming, how many tasks it finished while
    draining, whether it exited.
    """
    app = _app(app)
    say = progress or (lambda _m: None)
    _hosts(app, [host], timeout)
    queues = _broadcast("active_queues", app=app, destination=[host], timeout=timeout,
                        limit=1).get(host) or []
    names = [q["name"] for q in queues]
    for name in names:
        reply = _broadcast("cancel_consumer", app=app, destination=[host], timeout=timeout,
                           arguments={"queue": name}, limit=1)
        if host not in reply:
            raise FleetError(f"{host} did not confirm that it stopped consuming {name}")
    say(f"{host}: stopped consuming {', '.join(names) or 'nothing'}")
    deadline = time.monotonic() + wait
    first_busy = None
    said = None  # the waiting line is said again only when what it waits for changes
    while True:
        active = _broadcast("active", app=app, destination=[host], timeout=timeout, limit=1)
        reserved = _broadcast("reserved", app=app, destination=[host], timeout=timeout, limit=1)
        answered = host in active and host in reserved
        busy = len(active.get(host) or []) + len(reserved.get(host) or [])
        if first_busy is None and answered:
            first_busy = busy
        if busy == 0 and answered:
            break
        if time.monotonic() > deadline:
            raise FleetError(f"{host} still has {busy} task(s) after {wait:g} s; it consumes "
                             "nothing new. Run `braillejobs workers drain` again to keep "
                             "waiting, or `celery -A braillejobs.queue:app control shutdown "
                             f"-d {host}` to stop it now")
        line = (f"{host}: waiting for {busy} task(s) to finish" if answered else
                f"{host}: no answer within {timeout:g} s, asking again")
        if line != said:
            say(line)
            said = line
        time.sleep(poll)
    say(f"{host}: idle, shutting down")
    _broadcast("shutdown", app=app, destination=[host], timeout=timeout, limit=1)
    exited = _wait_gone(app, host, timeout)
    return {"hostname": host, "stopped_consuming": names, "tasks_finished": first_busy or 0,
            "exited": exited}


def _wait_gone(app, host: str, timeout: float, within: float = 60.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if host not in ping(app=app, destination=[host], timeout=min(timeout, 1.0)):
            return True
        time.sleep(0.5)
    return False


# ---------------------------------------------------------------------------------- queues
def queue_lengths(queues: Iterable[str], app=None) -> dict[str, int]:
    """Queue -> messages waiting in Redis (all priority lists together)."""
    conn, client = broker_redis(app)
    try:
        pipe = client.pipeline()
        names = list(dict.fromkeys(queues))
        for name in names:
            for key in queue_keys(name):
                pipe.llen(key)
        counts = pipe.execute()
    except FleetError:
        raise
    except Exception as exc:
        url = config.mask_url(config.get("broker_url"))
        raise FleetError(f"cannot read queue lengths from {url} ({exc.__class__.__name__}: "
                         f"{exc})") from None
    finally:
        conn.release()
    steps = len(PRIORITY_STEPS)
    return {name: int(sum(counts[i * steps:(i + 1) * steps])) for i, name in enumerate(names)}


def remove_job_messages(job_id: str, queues: Iterable[str], app=None,
                        chunk: int = 1000) -> int:
    """Take a job's waiting task messages out of the queues' Redis lists (a cancelled job's);
    returns how many. Messages a worker already holds are not in the lists: the worker finds
    their documents cancelled and skips them."""
    from ..messages import task_arguments

    max_bytes = config.get("max_message_bytes")
    conn, client = broker_redis(app)
    removed = 0
    try:
        for name in dict.fromkeys(queues):
            for key in queue_keys(name):
                found, start = [], 0
                while True:
                    items = client.lrange(key, start, start + chunk - 1)
                    if not items:
                        break
                    found += [raw for raw in items
                              if (task_arguments(raw, max_bytes=max_bytes) or ("",))[0] == job_id]
                    start += len(items)
                for raw in found:
                    removed += int(client.lrem(key, 1, raw))
    finally:
        conn.release()
    return removed


def dead_letter_counts(app=None) -> dict[str, int]:
    """Records in the dead-letter list, by the queue (or broadcast channel) they came from."""
    from . import deadletters

    conn, client = broker_redis(app)
    try:
        return dict(deadletters.counts_by_queue(client))
    except Exception as exc:
        url = config.mask_url(config.get("broker_url"))
        raise FleetError(f"cannot read the dead-letter list {deadletters.list_name()} from "
                         f"{url} ({exc.__class__.__name__}: {exc})") from None
    finally:
        conn.release()


def unacked_count(app=None) -> int:
    """Messages delivered to workers and not yet acknowledged (running or reserved)."""
    conn, client = broker_redis(app)
    try:
        return int(client.hlen("unacked"))
    finally:
        conn.release()


def queues_overview(*, app=None, timeout: float = DEFAULT_TIMEOUT, extra: Iterable[str] = (),
                    workers: list[WorkerInfo] | None = None) -> list[dict[str, Any]]:
    """One row per known queue: waiting messages, consuming workers, paused-on workers.

    ``workers`` (from :func:`list_workers`) saves asking the workers again."""
    app = _app(app)
    if workers is None:
        consumers = queue_consumers(app=app, timeout=timeout)
    else:
        consumers = {}
        for w in workers:
            for name in w.queues:
                consumers.setdefault(name, []).append(w.hostname)
    paused = paused_queues(app)
    names = sorted({config.get("queue"), config.get("gpu_queue"), *extra, *consumers, *paused})
    lengths = queue_lengths(names, app)
    dead = dead_letter_counts(app)
    return [{"queue": name, "waiting": lengths[name], "consumers": sorted(consumers.get(name, [])),
             "paused_on": paused.get(name, []), "dead_letters": dead.get(name, 0)}
            for name in names]


def check_reachable(app=None) -> None:
    """Raise FleetError at once when the broker does not accept a connection."""
    try:
        with _app(app).connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0.1, timeout=3)
    except Exception as exc:
        raise broker_down(exc) from None


# ------------------------------------------------------------------------ where a job goes
def choose_queue(engine: str, *, app=None) -> tuple[str, list[str]]:
    """The queue a job of ``engine`` goes to now (``queue.queue_for``, with the queues the
    workers say they consume: ``presence``), and warnings when no worker consumes it or it is
    paused."""
    from ..queue import queue_for
    from . import presence

    app = _app(app)
    gpu = config.get("gpu_queue")
    conn, client = broker_redis(app)
    try:
        consumers = presence.consumers(client, [config.get("queue"), gpu])
    finally:
        conn.release()
    paused = paused_queues(app)
    target = queue_for(engine, gpu_served=bool(consumers.get(gpu)) and gpu not in paused)
    warnings = []
    if not consumers.get(target):
        where = "a GPU host" if target == gpu else "a CPU host"
        warnings.append(f"no worker consumes queue {target} now: the job waits until one does "
                        f"(start `braillejobs worker` on {where})")
    if target in paused:
        warnings.append(f"queue {target} is paused on {', '.join(paused[target])}: the job "
                        f"waits until `braillejobs workers resume {target}`")
    return target, warnings


__all__ = ["FleetError", "WorkerInfo", "QueueError", "ping", "list_workers", "pause", "resume",
           "drain", "queue_consumers", "queue_lengths", "queues_overview", "paused_queues",
           "dead_letter_counts", "unacked_count", "check_reachable", "choose_queue",
           "DEFAULT_TIMEOUT", "INFO_COMMAND", "PAUSED_KEY"]
