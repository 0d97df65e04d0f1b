"""Corrections in files: JSON Lines and CSV, one correction a line or row.

Fields: ``print`` and ``braille`` (Unicode cells or BRF; or ``brf``) are required; ``table``,
``set``, ``note``, ``author`` are optional (the command's options fill what is missing). Export
writes every field, the braille both as Unicode and as BRF, so a file round-trips and a
transcriber can read it in either form. A file is checked whole before anything is stored: one
bad row names its line and nothing is imported.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterator, Sequence

from ..db.models import Correction, aware
from ..translate.engine import EngineError
from . import CorrectionError
from .braille import brf
from .store import Proposed, propose

FORMATS = ("jsonl", "csv")
FIELDS = ("print", "braille", "brf", "table", "set", "note", "author", "origin", "created_at")
MAX_FILE_BYTES = 50 << 20


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise CorrectionError(f"{path}: cannot tell the format from the name; name it .jsonl or "
                          ".csv, or give --format jsonl|csv")


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict | CorrectionError]]:
    """(line number, fields) of each correction in the file; a line that holds none gives
    why instead of fields."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorrectionError(f"{path}: {size} bytes is more than a corrections file holds "
                                  f"({MAX_FILE_BYTES >> 20} MB); split it")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorrectionError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8")
    except OSError as exc:
        raise CorrectionError(f"{path}: cannot read it ({exc.strerror})") from None
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                yield number, CorrectionError(f"not JSON ({getattr(exc, 'msg', exc)})")
                continue
            if not isinstance(row, dict):
                row = CorrectionError("a correction is a JSON object with print and braille")
            yield number, row
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "print" not in reader.fieldnames or not (
            {"braille", "brf"} & set(reader.fieldnames)):
        raise CorrectionError(f"{path}: the first row must name the columns, print and braille "
                              f"(or brf) among them; it has {reader.fieldnames}")
    for row in reader:
        yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def proposals(path: Path, fmt: str, *, table: str, set_name: str | None, author: str | None,
              force: bool) -> list[Proposed]:
    """Every correction of the file, checked; the errors of all bad rows in one message."""
    out, errors = [], []
    for number, row in read_rows(path, fmt):
        if isinstance(row, CorrectionError):
            errors.append(f"{path}:{number}: {row}")
            continue
        braille = row.get("braille") or row.get("brf")
        try:
            if not isinstance(row.get("print"), str) or not isinstance(braille, str):
                raise CorrectionError("print and braille (or brf) are required text fields")
            out.append(propose(row["print"], braille, table=_text(row, "table") or table,
                               set_name=set_name or _text(row, "set"),
                               note=_text(row, "note"),
                               author=_text(row, "author") or author, origin="imported",
                               force=force))
        except (CorrectionError, EngineError) as exc:    # EngineError: an unknown table
            errors.append(f"{path}:{number}: {exc}")
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise CorrectionError(f"{len(errors)} of the file's corrections cannot be imported, so "
                              "none was:\n" + "\n".join(shown))
    if not out:
        raise CorrectionError(f"{path}: no correction in it")
    seen: dict[tuple, int] = {}
    for item in out:
        key = (item.set_name, item.table, item.print_text)
        seen[key] = seen.get(key, 0) + 1
    twice = [k[2] for k, n in seen.items() if n > 1]
    if twice:
        raise CorrectionError(f"{path}: print text given more than once for one set and table: "
                              + ", ".join(repr(t) for t in twice[:10]) + "; keep one of each")
    return out


def _text(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CorrectionError(f"{key} must be text")
    return value


def record(row: Correction) -> dict:
    return {"print": row.print_text, "braille": row.braille, "brf": brf(row.braille),
            "table": row.table, "set": row.set_name, "note": row.note, "author": row.author,
            "origin": row.origin, "created_at": aware(row.created_at).isoformat()}


def write(rows: Sequence[Correction], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(record(r), ensure_ascii=False) + "\n" for r in rows)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in record(r).items()})
    return buffer.getvalue()
