"""Commands for operating the worker fleet (workers, queues, dead letters, exporter).

They talk to the workers through Celery's remote control on the broker and read Redis and the
database directly; they never import torch or the worker code.
"""

from __future__ import annotations

import functools
import json

import click

from .. import config
from .terminal import (echo, echo_json, human_bytes, human_seconds, human_time, print_table,
                       printable)

TIMEOUT_HELP = "Seconds to wait for workers' answers."


def _fleet():
    from ..fleet import control as fleet

    return fleet


def fleet_errors(func):
    """FleetError and the broker's errors become one-line messages (exit status 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..config import ConfigError
        from ..fleet.control import FleetError
        from ..fleet.deadletters import DeadLetterError
        from ..queue import QueueError

        try:
            return func(*args, **kwargs)
        except (FleetError, QueueError, ConfigError, DeadLetterError) as exc:
            raise click.ClickException(printable(str(exc))) from None

    return wrapper


def timeout_option(func):
    return click.option("--timeout", type=click.FloatRange(0.1, 60), default=2.0,
                        show_default=True, help=TIMEOUT_HELP)(func)


def _json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _gpu_text(w) -> str:
    if not w.gpu_memory:
        return "-"
    return ", ".join(f"{g['device']} {human_bytes(g['used_bytes'])}/"
                     f"{human_bytes(g['total_bytes'])}" for g in w.gpu_memory)


def _models_text(w) -> str:
    return ", ".join(f"{m['engine']} {m['version']}" for m in w.models) or "-"


# ---------------------------------------------------------------------------------- workers
@click.group()
def workers():
    """See and steer the workers (Celery remote control over the broker).

    Celery's own command line does the rest on the same fleet: `celery -A braillejobs.queue:app
    inspect ping` (who answers), `... inspect active` (the running tasks), `... control shutdown
    -d HOST` (a warm shutdown now)."""


def worker_rows(infos) -> list[list[str]]:
    return [[w.hostname, ",".join(w.queues) or "(none)", f"{w.pool}×{w.concurrency}",
             str(w.active), str(w.reserved), str(w.processed), w.device or "-", _gpu_text(w),
             _models_text(w), human_seconds(w.uptime_s)] for w in infos]


WORKER_COLUMNS = ["HOST", "QUEUES", "POOL", "ACTIVE", "RESERVED", "PROCESSED", "DEVICE",
                  "GPU MEMORY", "MODELS", "UPTIME"]


@workers.command("list")
@click.option("-d", "--destination", multiple=True, help="Only this worker (repeatable).")
@timeout_option
@_json_option
@fleet_errors
def list_cmd(destination, timeout, as_json):
    """Every worker that answers: queues, pool, load, device, GPU memory, models, uptime.

    Exit status 1 when no worker (or not every named one) answers, or the broker is down;
    --json then still prints a JSON list."""
    fleet = _fleet()
    try:
        infos = fleet.list_workers(destination=list(destination) or None, timeout=timeout)
    except fleet.FleetError:
        if as_json:
            echo_json([])
        raise
    if as_json:
        echo_json([w.as_dict() for w in infos])
    elif infos:
        print_table(None, WORKER_COLUMNS, worker_rows(infos))
    if not infos:
        raise click.ClickException(no_worker_message(timeout))


def no_worker_message(timeout: float) -> str:
    return (f"no worker answered within {timeout:g} s; start one (`braillejobs worker`) or "
            "raise --timeout")


def _report(result: dict[str, str], as_json: bool) -> None:
    if as_json:
        echo_json(result)
    else:
        for host, text in result.items():
            echo(f"{host}: {text}")
    if any(text.startswith(("error", "no answer")) for text in result.values()):
        raise click.ClickException("not every worker did it; see above")


@workers.command()
@click.argument("queue")
@click.option("-d", "--destination", multiple=True,
              help="Only on this worker (repeatable) [default: every worker consuming QUEUE].")
@timeout_option
@_json_option
@fleet_errors
def pause(queue, destination, timeout, as_json):
    """Stop consuming QUEUE: running tasks finish, messages wait in Redis."""
    _report(_fleet().pause(queue, destination=list(destination) or None, timeout=timeout),
            as_json)


@workers.command()
@click.argument("queue")
@click.option("-d", "--destination", multiple=True,
              help="Only on this worker (repeatable) [default: the workers it was paused on].")
@timeout_option
@_json_option
@fleet_errors
def resume(queue, destination, timeout, as_json):
    """Start consuming QUEUE again where it was paused."""
    _report(_fleet().resume(queue, destination=list(destination) or None, timeout=timeout),
            as_json)


@workers.command()
@click.argument("host")
@click.option("--wait", type=click.FloatRange(0), default=3600, show_default=True,
              help="Most seconds to wait for the running tasks.")
@timeout_option
@_json_option
@fleet_errors
def drain(host, wait, timeout, as_json):
    """Let HOST finish its current work, take no more, and exit."""
    say = (lambda m: None) if as_json else (lambda m: echo(m, err=True))
    result = _fleet().drain(host, timeout=timeout, wait=wait, progress=say)
    if as_json:
        echo_json(result)
    else:
        echo(f"{host}: drained ({result['tasks_finished']} task(s) finished), "
                   + ("exited" if result["exited"] else "still answering pings"))
    if not result["exited"]:
        raise click.ClickException(f"{host} was asked to shut down but still answers")


# ----------------------------------------------------------------------------------- queues
@click.command()
@click.option("-q", "--queue", "extra", multiple=True, help="Also show this queue.")
@timeout_option
@_json_option
@fleet_errors
def queues(extra, timeout, as_json):
    """Queue lengths in Redis, with the workers consuming each queue."""
    rows = _fleet().queues_overview(timeout=timeout, extra=extra)
    if as_json:
        echo_json(rows)
        return
    print_table(None, ["QUEUE", "WAITING", "CONSUMERS", "PAUSED ON", "DEAD LETTERS"],
                 [[r["queue"], str(r["waiting"]), ", ".join(r["consumers"]) or "-",
                   ", ".join(r["paused_on"]) or "-", str(r["dead_letters"])] for r in rows])
    dead = sum(_fleet().dead_letter_counts().values())
    if dead:
        echo(f"{dead} dead letter(s) in {config.get('dead_letter_list')}: "
                   "braillejobs dead-letters list")


# ------------------------------------------------------------------------------ dead letters
@click.group("dead-letters")
def dead_letters():
    """Messages the workers refused to run (malformed, unknown task, not JSON, too large).

    Workers never run, requeue or unpickle such a message: they move it, as it was, to the
    Redis list named by BRAILLEJOBS_DEAD_LETTER_LIST, with the reason and the time."""


def _dead_client():
    fleet = _fleet()
    conn, client = fleet.broker_redis()
    return conn, client


@dead_letters.command("list")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="Show at most this many, newest first.")
@_json_option
@fleet_errors
def dead_list(limit, as_json):
    """The dead letters, newest first: id, time, queue, reason."""
    from ..fleet import deadletters

    conn, client = _dead_client()
    try:
        total = deadletters.count(client)
        letters = deadletters.entries(client, limit=limit)
    finally:
        conn.release()
    if as_json:
        echo_json([d.as_dict() for d in letters])
        return
    if not letters:
        echo(f"no dead letters in {deadletters.list_name()}")
        return
    print_table(None, ["ID", "TIME", "QUEUE", "KIND", "SIZE", "REASON"],
                 [[d.id, human_time(d.time), d.queue, d.kind, human_bytes(d.size), d.reason]
                  for d in letters])
    if total > len(letters):
        echo(f"{len(letters)} of {total} shown (--limit {total} shows all)")


@dead_letters.command("show")
@click.argument("letter_id")
@click.option("--raw", is_flag=True, help="Write the message exactly as it was popped, for "
              "saving to a file (`> FILE`), editing and `requeue --message FILE`.")
@_json_option
@fleet_errors
def dead_show(letter_id, raw, as_json):
    """One dead letter: why it was refused, and its message (an id prefix will do)."""
    from ..fleet import deadletters

    conn, client = _dead_client()
    try:
        letter = deadletters.find(client, letter_id)
        message = deadletters.message(client, letter)
    finally:
        conn.release()
    if raw:
        click.get_binary_stream("stdout").write(message)
        return
    shown = _readable_message(message)
    if as_json:
        echo_json({**letter.as_dict(), "message": shown})
        return
    for key, value in letter.as_dict().items():
        echo(f"{key + ':':<10} {printable(str(value))}")
    echo("message:")
    echo(printable(json.dumps(shown, indent=2, ensure_ascii=True)
                         if not isinstance(shown, str) else shown, keep_newlines=True))


def _readable_message(raw: bytes):
    """The envelope as JSON with its base64 body decoded when it decodes; else the text."""
    import base64

    try:
        envelope = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "backslashreplace")
    if isinstance(envelope, dict) and isinstance(envelope.get("body"), str):
        try:
            envelope["body (decoded)"] = json.loads(base64.b64decode(envelope["body"],
                                                                     validate=True))
        except ValueError:
            pass
    return envelope


@dead_letters.command("purge")
@click.argument("letter_ids", nargs=-1)
@click.option("--all", "purge_all", is_flag=True, help="Delete every dead letter.")
@click.option("--yes", is_flag=True, help="Do not ask before deleting them all.")
@fleet_errors
def dead_purge(letter_ids, purge_all, yes):
    """Delete the named dead letters, or all of them with --all."""
    from ..fleet import deadletters

    if bool(letter_ids) == purge_all:
        raise click.UsageError("name dead letters to delete, or give --all")
    conn, client = _dead_client()
    try:
        if purge_all:
            total = deadletters.count(client)
            if total and not yes:
                click.confirm(f"delete all {total} dead letter(s) in "
                              f"{deadletters.list_name()}?", abort=True)
            echo(f"deleted {deadletters.purge(client)} dead letter(s)")
            return
        letters = [deadletters.find(client, i) for i in letter_ids]
        echo(f"deleted {deadletters.remove(client, letters)} dead letter(s)")
    finally:
        conn.release()


@dead_letters.command("requeue")
@click.argument("letter_id")
@click.option("--message", "message_file", type=click.File("rb"),
              help="Send this corrected copy of the message instead (from `show ID --raw`).")
@fleet_errors
def dead_requeue(letter_id, message_file):
    """Send a dead letter back to its queue, only if it is now a well-formed task message."""
    from ..fleet import deadletters

    replacement = message_file.read() if message_file else None
    conn, client = _dead_client()
    try:
        letter = deadletters.find(client, letter_id)
        key = deadletters.requeue(client, letter, replacement=replacement)
    finally:
        conn.release()
    echo(f"dead letter {letter.id} is back on queue {printable(letter.queue)}"
               + (" (priority list)" if key != letter.queue else ""))


# --------------------------------------------------------------------------------- exporter
@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=9809, show_default=True)
@click.option("--addr", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("-q", "--queue", "queue_names", multiple=True,
              help="Queue to report (repeatable) [default: the settings queue and gpu_queue].")
@click.option("--ping-timeout", type=click.FloatRange(0.1, 30), default=1.0, show_default=True,
              help="Seconds to wait for workers to answer the exporter's ping.")
@fleet_errors
def exporter(port, addr, queue_names, ping_timeout):
    """Serve the fleet's metrics for Prometheus on /metrics, a status page on / and /healthz.

    The metrics: documents and messages per queue, consumers, paused queues, unacknowledged
    messages, jobs by state, workers up, the oldest queued document, documents submitted, dead
    letters and the database's size. The status page (read-only HTML, reloading every 5 s)
    shows workers with their device and models, queues, jobs in flight with their progress and
    recent failures with their reasons."""
    import logging
    import time

    from ..fleet.exporter import serve

    # log times in UTC, saying so (the default is local time with no zone)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                  datefmt="%Y-%m-%d %H:%M:%S UTC")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    logging.basicConfig(level=config.get("log_level").upper(), handlers=[handler])
    try:
        serve(port, addr, queue_names, ping_timeout=ping_timeout)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {addr}:{port} ({exc}); choose another "
                                   "--port") from None
    except KeyboardInterrupt:
        pass


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=5555, show_default=True)
@click.option("--addr", default="127.0.0.1", show_default=True, help="Address to listen on.")
def flower(port, addr):
    """Run Flower, Celery's web monitor, on this fleet (needs the flower extra).

    Flower shows the workers, their tasks (from the task events the workers send) and the
    broker; it can also stop and restart them, so it never runs without a password: set
    FLOWER_BASIC_AUTH=user:password (Flower's own variable; a real password, not the example's).
    """
    import os
    import sys

    from ..config import PLACEHOLDER

    auth = os.environ.get("FLOWER_BASIC_AUTH", "")
    if not auth or ":" not in auth or not auth.split(":", 1)[1]:
        raise click.ClickException("set FLOWER_BASIC_AUTH=user:password: Flower can steer the "
                                   "workers and must not run without a password")
    if PLACEHOLDER in auth:
        raise click.ClickException("FLOWER_BASIC_AUTH still holds the placeholder password of "
                                   ".env.example; set a real one")
    try:
        import flower as _flower  # noqa: F401
    except ImportError:
        raise click.ClickException("Flower is not installed: pip install 'braillejobs[flower]'"
                                   ) from None
    # Celery's own command line loads the module-level app (braillejobs.queue:app)
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "braillejobs.queue:app",
                              "flower", f"--port={port}", f"--address={addr}"])


COMMANDS: list[click.Command] = [workers, queues, dead_letters, exporter, flower]
