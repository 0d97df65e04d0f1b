"""The terminal side of the commands: text made safe to print, JSON, tables, progress bars.

Text from users and documents is made safe to print on an operator's terminal (and in logs).

A job name, a file name, a dead letter or an error message can carry terminal control sequences
(CSI/OSC escapes that move the cursor, retitle the window or hide text), carriage returns and
backspaces that overwrite what was printed, or bidirectional overrides that reorder it. Every
such character is shown as a visible escape instead (``\\x1b``, ``\\r``, ``\\u202e``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Unicode categories shown escaped: controls (C0, C1, DEL), format characters (bidi overrides,
# zero-width ones), surrogates (undecodable bytes of a file name) and line/paragraph separators.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v",
          "\x1b": "\\x1b"}


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control or format character escaped (newlines kept if asked)."""
    text = str(text)
    if text.isprintable() and text.isascii():
        return text
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def echo(message: object = "", err: bool = False) -> None:
    """``click.echo`` of ``message`` with control characters shown escaped (newlines kept)."""
    import click

    click.echo(printable(message, keep_newlines=True), err=err)


def echo_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (values JSON cannot hold as their ``str``)."""
    import json

    echo(json.dumps(data, indent=2, default=str))


def print_errors(errors: list[str], limit: int = 50) -> None:
    for line in errors[:limit]:
        echo(f"error: {line}", err=True)
    if len(errors) > limit:
        echo(f"error: ... and {len(errors) - limit} more; "
             "`braillejobs status JOB --json` lists them all", err=True)


def print_warnings(warnings: list[str], limit: int = 50) -> None:
    for line in warnings[:limit]:
        echo(f"warning: {line}", err=True)
    if len(warnings) > limit:
        echo("warning: ... and more; `braillejobs status JOB --json` lists them all", err=True)


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def human_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(s)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d{h:02d}h"
    if h:
        return f"{h}h{m:02d}m"
    return f"{m}m{s:02d}s"


def human_time(value: object) -> str:
    """A time for people, in UTC and saying so: ``2026-12-02 19:08:15 UTC``.

    ``value`` is a datetime or an ISO 8601 string; one without a zone is taken as UTC (the
    database and the workers store UTC). None or "" is "-"; a string that is not a time is
    shown as it is, escaped."""
    from datetime import datetime, timezone

    if value is None or value == "":
        return "-"
    when = value
    if not isinstance(when, datetime):
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            return printable(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def console():
    """A terminal's own width; a pipe or file gets a wide page rather than rich's 80 columns."""
    import shutil
    import sys

    from rich.console import Console

    if sys.stdout.isatty():
        return Console(soft_wrap=False)
    return Console(width=max(120, shutil.get_terminal_size((160, 24)).columns), soft_wrap=False)


def print_table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold", box=None,
                  pad_edge=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:  # Text: no rich markup, and control characters shown escaped
        table.add_row(*[Text(printable(c)) for c in row])
    console().print(table)


class Bar:
    """A progress bar on a terminal (rich). Elsewhere nothing, or with ``log_every`` a line
    every that many seconds (the logs of a long background run)."""

    def __init__(self, label: str, total: float | None = None,
                 log_every: float | None = None) -> None:
        self.label, self.total, self.log_every = label, total, log_every
        self.progress = None
        self.task = None
        self.last = -1e9

    def __enter__(self) -> "Bar":
        import sys

        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                                     TimeElapsedColumn(), TimeRemainingColumn(),
                                     console=Console(stderr=True), transient=False)
            self.progress.__enter__()
            self.task = self.progress.add_task(self.label, total=self.total, info="")
        return self

    def update(self, completed: float, total: float | None = None, info: str = "") -> None:
        import time

        if self.progress is not None:
            self.progress.update(self.task, completed=completed, info=info,
                                 **({"total": total} if total else {}))
        elif self.log_every is not None and time.monotonic() - self.last >= self.log_every:
            self.last = time.monotonic()
            echo(f"{self.label}: {info or f'{completed:g}'}", err=True)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
