"""``braillejobs top``: workers, queues, jobs in flight and throughput, live.

Each :meth:`Snapshotter.render` reads the fleet once (remote control, Redis, the database) and
builds a rich renderable. Throughput comes from the database (documents and characters finished
in the last minute), so it needs no Prometheus; tasks per second come from the difference of the
workers' processed counts between two refreshes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import click
from rich.console import Group
from rich.table import Table
from rich.text import Text

from .. import config
from .fleet import WORKER_COLUMNS, fleet_errors, no_worker_message, timeout_option, worker_rows
from .terminal import console, human_seconds, human_time, printable

WINDOW = timedelta(seconds=60)


class Snapshotter:
    def __init__(self, timeout: float = 2.0, jobs_shown: int = 10):
        self.timeout = timeout
        self.jobs_shown = jobs_shown
        self._last_processed: tuple[float, int] | None = None

    # -------------------------------------------------------------------------- reading
    def read(self) -> dict[str, Any]:
        from ..fleet import control as fleet

        snap: dict[str, Any] = {"time": datetime.now(timezone.utc), "errors": []}
        try:
            snap["workers"] = fleet.list_workers(timeout=self.timeout)
            snap["queues"] = fleet.queues_overview(timeout=self.timeout,
                                                   workers=snap["workers"])
            snap["unacked"] = fleet.unacked_count()
        except fleet.FleetError as exc:
            snap["workers"], snap["queues"], snap["unacked"] = [], [], None
            snap["errors"].append(str(exc))
        processed = sum(w.processed for w in snap["workers"])
        now = time.monotonic()
        snap["tasks_per_s"] = None
        if self._last_processed is not None and now > self._last_processed[0]:
            snap["tasks_per_s"] = max(0, processed - self._last_processed[1]) / \
                (now - self._last_processed[0])
        self._last_processed = (now, processed)
        try:
            snap.update(self._read_database(snap["time"]))
        except Exception as exc:
            snap["jobs"], snap["docs_per_s"], snap["chars_per_s"] = [], None, None
            snap["errors"].append(f"database: {str(exc).splitlines()[0]}")
        return snap

    def _read_database(self, now: datetime) -> dict[str, Any]:
        from sqlalchemy.orm import Session

        from ..db import state
        from ..db.session import get_engine

        with Session(get_engine()) as session:
            jobs = state.unfinished_jobs(session, self.jobs_shown)
            documents, chars = state.finished_since(session, now - WINDOW)
        for job in jobs:
            job["age_s"] = (now - job.pop("created_at")).total_seconds()
        seconds = WINDOW.total_seconds()
        return {"jobs": jobs, "docs_per_s": documents / seconds, "chars_per_s": chars / seconds}

    # ------------------------------------------------------------------------ rendering
    def render(self):
        return render(self.read())


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan",
                  box=None, pad_edge=False, expand=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def _add_row(table: Table, *cells) -> None:
    """Cells as plain Text: no rich markup, control characters shown escaped."""
    table.add_row(*[c if isinstance(c, Text) else Text("" if c is None else printable(c))
                    for c in cells])


def render(snap: dict[str, Any]):
    broker = config.mask_url(config.get("broker_url"))
    rate = (lambda v, unit: "-" if v is None else f"{v:,.1f} {unit}")
    head = Text.assemble(
        ("braillejobs top", "bold"), f"  {human_time(snap['time'])}  broker {broker}\n",
        ("throughput (last 60 s): ", "bold"),
        f"{rate(snap.get('docs_per_s'), 'documents/s')}, "
        f"{rate(snap.get('chars_per_s'), 'chars/s')}, "
        f"{rate(snap.get('tasks_per_s'), 'tasks/s')}   "
        f"workers {len(snap['workers'])}   in flight (unacked) "
        f"{'-' if snap.get('unacked') is None else snap['unacked']}")
    workers = _table(f"Workers ({len(snap['workers'])})", WORKER_COLUMNS)
    for row in worker_rows(snap["workers"]):
        _add_row(workers, *row)
    if not snap["workers"]:
        _add_row(workers, "(no worker answered)", *[""] * (len(WORKER_COLUMNS) - 1))
    queues = _table("Queues", ["QUEUE", "WAITING", "CONSUMERS", "PAUSED ON"])
    for q in snap["queues"]:
        _add_row(queues, q["queue"], str(q["waiting"]), str(len(q["consumers"])),
                       ", ".join(q["paused_on"]) or "-")
    jobs = _table("Jobs in flight", ["JOB", "NAME", "STATE", "ENGINE", "DONE", "FAILED",
                                     "RUNNING", "TOTAL", "PROGRESS", "AGE"])
    for j in snap.get("jobs", []):
        finished = j["done"] + j["failed"]
        pct = 100.0 * finished / j["total"] if j["total"] else 0.0
        bar = "█" * int(pct // 10) + "░" * (10 - int(pct // 10))
        _add_row(jobs, j["id"], j["name"], j["state"], j["engine"], str(j["done"]),
                     str(j["failed"]), str(j["running"]), str(j["total"]),
                     f"{bar} {pct:5.1f}%", human_seconds(j["age_s"]))
    if not snap.get("jobs"):
        _add_row(jobs, "(none)", *[""] * 9)
    parts = [head, Text(""), workers, Text(""), queues, Text(""), jobs]
    for err in snap["errors"]:
        parts.append(Text(f"! {printable(err)}", style="bold red"))
    return Group(*parts)


@click.command()
@click.option("--interval", type=click.FloatRange(0.5), default=2.0, show_default=True,
              help="Seconds between refreshes.")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@timeout_option
@fleet_errors
def top(interval, once, timeout):
    """A live view of workers, queues, jobs in flight and throughput (Ctrl-C to quit).

    With --once, exit status 1 when no worker answered or a source could not be read."""
    from rich.live import Live

    snap = Snapshotter(timeout=timeout)
    screen = console()
    if once:
        read = snap.read()
        screen.print(render(read))
        problems = read["errors"] or ([] if read["workers"] else [no_worker_message(timeout)])
        if problems:
            raise click.ClickException(printable("; ".join(problems)))
        return
    try:
        with Live(snap.render(), console=screen, refresh_per_second=4, screen=False) as live:
            while True:
                time.sleep(interval)
                live.update(snap.render())
    except KeyboardInterrupt:
        pass


COMMANDS: list[click.Command] = [top]
