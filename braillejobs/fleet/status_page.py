"""The exporter's status page: the fleet at a glance, for people, read-only.

One HTML page, served at ``/`` by ``braillejobs exporter``: the workers with their device and
models, the queues (documents and messages waiting, consumers, paused), the jobs in flight with a
progress bar each, and the documents that failed last with their reasons. It reloads itself
(``<meta http-equiv="refresh">``), has no script, form or link to follow, and shows no setting:
no broker or database URL, hence no password. Every text on it comes from the fleet (job names,
paths, errors and hostnames are anyone's to choose) and passes through :func:`html.escape`.

:func:`render` takes a :class:`StatusView` and returns the page; the exporter builds the view.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

REFRESH_SECONDS = 5
ERROR_SHOWN = 400  # characters of a failure's reason shown


@dataclass(frozen=True)
class QueueRow:
    name: str
    documents: int
    messages: int
    consumers: list[str] = field(default_factory=list)
    paused_on: list[str] = field(default_factory=list)
    dead_letters: int = 0


@dataclass(frozen=True)
class StatusView:
    """What the page shows. None for a part means its source could not be read."""
    read_at: datetime
    broker_up: bool
    database_up: bool
    queues: list[QueueRow] | None
    workers: list[Any] | None           # braillejobs.fleet.control.WorkerInfo
    jobs: list[dict] | None             # braillejobs.db.state.unfinished_jobs
    failures: list[dict] | None         # braillejobs.db.state.recent_failures


def e(value: Any) -> str:
    """Text for HTML, quotes included (also right inside an attribute's value)."""
    return html.escape("" if value is None else str(value), quote=True)


STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
.meta { color: #555; margin: 0; }
.bad { color: #a00; font-weight: 600; }
.ok { color: #176117; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
progress { -webkit-appearance: none; appearance: none; width: 11em; height: 1.1em;
           border: 1px solid #8a8a8a; background: #e8e8e8; vertical-align: middle; }
progress::-webkit-progress-bar { background: #e8e8e8; }
progress::-webkit-progress-value { background: #2a7ae2; }
progress::-moz-progress-bar { background: #2a7ae2; }
.progress-text { margin-left: .6em; white-space: nowrap; }
.empty { color: #666; font-style: italic; }
.error { font-family: ui-monospace, monospace; font-size: .9em; white-space: pre-wrap;
         word-break: break-word; }
code { font-family: ui-monospace, monospace; }
"""


def render(view: StatusView, refresh: int = REFRESH_SECONDS) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="refresh" content="{int(refresh)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>braillejobs fleet</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>braillejobs fleet</h1>",
        f'<p class="meta">Read at {e(_time(view.read_at))}; this page reloads every '
        f"{int(refresh)} s. {_source('Broker', view.broker_up)} "
        f"{_source('Database', view.database_up)}</p></header>",
        _workers(view.workers),
        _queues(view.queues),
        _jobs(view.jobs, view.read_at),
        _failures(view.failures),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _source(name: str, up: bool) -> str:
    if up:
        return f'<span class="ok">{e(name)}: read.</span>'
    return (f'<span class="bad">{e(name)}: cannot be read (see the exporter\'s log); '
            "what is shown from it may be old or missing.</span>")


def _section(anchor: str, title: str, count: int | None, body: str) -> str:
    counted = f" ({count})" if count is not None else ""
    return (f'<section id="{e(anchor)}"><h2>{e(title)}{e(counted)}</h2>\n{body}\n'
            "</section>")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Sequence[int] = ()) -> str:
    head = "".join(f'<th{_num(i, numeric)} scope="col">{e(h)}</th>'
                   for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(f"<td{_num(i, numeric)}>{cell}</td>"
                                      for i, cell in enumerate(row)) + "</tr>"
                     for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _num(index: int, numeric: Sequence[int]) -> str:
    return ' class="num"' if index in numeric else ""


def _empty(text: str) -> str:
    return f'<p class="empty">{e(text)}</p>'


def _unknown(source: str) -> str:
    return _empty(f"Unknown: the {source} cannot be read.")


# ------------------------------------------------------------------------------- sections
def _workers(workers: list[Any] | None) -> str:
    if workers is None:
        return _section("workers", "Workers", None, _unknown("broker"))
    if not workers:
        return _section("workers", "Workers", 0, _empty("No worker answered the last ping."))
    rows = []
    for w in workers:
        models = ", ".join(f"{m.get('engine', '?')} {m.get('version', '?')} on "
                           f"{m.get('device', '?')}" for m in w.models) or "none loaded yet"
        queues = ", ".join(w.queues) or "none"
        if w.paused:
            queues += f" (paused: {', '.join(w.paused)})"
        rows.append([f"<code>{e(w.hostname)}</code>", e(w.device or "?"), e(models),
                     e(queues), e(f"{w.active} running, {w.reserved} reserved"),
                     e(_duration(w.uptime_s))])
    table = _table(["Worker", "Device", "Models", "Queues", "Tasks", "Up for"], rows)
    return _section("workers", "Workers", len(workers), table)


def _queues(queues: list[QueueRow] | None) -> str:
    if queues is None:
        return _section("queues", "Queues", None, _unknown("broker"))
    rows = []
    for q in queues:
        paused = f"paused on {', '.join(q.paused_on)}" if q.paused_on else "no"
        rows.append([f"<code>{e(q.name)}</code>", e(q.documents), e(q.messages),
                     e(len(q.consumers)), e(", ".join(q.consumers) or "none"), e(paused),
                     e(q.dead_letters)])
    table = _table(["Queue", "Documents waiting", "Messages", "Consumers", "Consumed by",
                    "Paused", "Dead letters"], rows, numeric=(1, 2, 3, 6))
    return _section("queues", "Queues", len(queues), table)


def _jobs(jobs: list[dict] | None, now: datetime) -> str:
    if jobs is None:
        return _section("jobs", "Jobs in flight", None, _unknown("database"))
    if not jobs:
        return _section("jobs", "Jobs in flight", 0, _empty("No job is queued or running."))
    rows = []
    for job in jobs:
        total = int(job["total"])
        done, failed, running = int(job["done"]), int(job["failed"]), int(job["running"])
        finished = done + failed
        label = f"job {job['id'][:8]}: {finished} of {total} documents finished"
        bar = (f'<progress class="job-progress" value="{finished}" max="{max(total, 1)}" '
               f'data-done="{done}" data-failed="{failed}" data-total="{total}" '
               f'aria-label="{e(label)}">{e(finished)}/{e(total)}</progress>'
               f'<span class="progress-text">{e(finished)}/{e(total)} finished '
               f"({e(done)} done, {e(failed)} failed, {e(running)} running)</span>")
        name = e(job["name"]) if job["name"] else '<span class="empty">no name</span>'
        rows.append([f'<code title="{e(job["id"])}">{e(job["id"][:8])}</code>', name,
                     e(job["state"]), e(job.get("engine") or ""), bar,
                     e(_duration((now - job["created_at"]).total_seconds()))])
    table = _table(["Job", "Name", "State", "Engine", "Progress", "Age"], rows)
    return _section("jobs", "Jobs in flight", len(jobs), table)


def _failures(failures: list[dict] | None) -> str:
    if failures is None:
        return _section("failures", "Recent failures", None, _unknown("database"))
    if not failures:
        return _section("failures", "Recent failures", 0, _empty("No document has failed."))
    rows = []
    for f in failures:
        reason = f["error"]
        if len(reason) > ERROR_SHOWN:
            reason = reason[:ERROR_SHOWN - 1] + "…"
        job = f"{f['job_id'][:8]}" + (f" {f['job_name']}" if f["job_name"] else "")
        rows.append([e(_time(f["finished_at"])), e(job), f"<code>{e(f['path'])}</code>",
                     f'<span class="error">{e(reason)}</span>'])
    table = _table(["When", "Job", "Document", "Reason"], rows)
    return _section("failures", "Recent failures", len(failures), table)


# ------------------------------------------------------------------------------ wording
def _time(when: datetime | None) -> str:
    if when is None:
        return "?"
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"
