"""Corrections as a liblouis table: how the liblouis engine honours them.

Each correction becomes one ``word`` rule (its print text, its braille as dot numbers) in a small
table that is listed *before* the base table, so that its rules win over the base table's own
for the same text (a base-table wordsign such as ``knowledge`` → ⠅ included). liblouis then
applies them as it applies its own: whole words only (``knowledgeable`` is untouched), next to
punctuation, and with the capital indicators each form needs (``Knowledge`` ⠠…, ``KNOWLEDGE``
⠠⠠…, inside a capitals passage).

The table is written once per distinct content, under a name made from its digest, so a changed
set gets a new table (liblouis caches compiled tables by name) and identical sets share one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from .braille import BLANK

_PLAIN = set("abcdefghijklmnopqrstuvwxyz0123456789")


def dots(braille: str) -> str:
    """liblouis's dot notation for Unicode braille: ``⠅⠝`` → ``13-1345``; a blank is ``0``."""
    cells = []
    for c in braille:
        bits = ord(c) - 0x2800
        if not 0 <= bits <= 0x3F:
            raise ValueError(f"{c!r} is not a six-dot braille cell")
        cells.append("".join(str(d + 1) for d in range(6) if bits >> d & 1) or "0")
    return "-".join(cells)


def characters(text: str) -> str:
    """Print text in a rule's characters field: letters and digits as they are, a space as
    ``\\s``, anything else as ``\\xhhhh`` (so no character can end the field or start a
    comment)."""
    out = []
    for c in text:
        if c in _PLAIN:
            out.append(c)
        elif c == " ":
            out.append("\\s")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\x{ord(c):04x}")
        else:
            raise ValueError(f"{c!r} is outside the characters a liblouis rule can name")
    return "".join(out)


def rules(corrections: Iterable[tuple[str, str]]) -> str:
    """The table's text for (print text, braille) pairs, one ``word`` rule each, in a stable
    order."""
    lines = ["# braillejobs corrections: generated, do not edit"]
    for print_text, braille in sorted(set(corrections)):
        lines.append(f"word {characters(print_text)} {dots(braille.replace(' ', BLANK))}")
    return "\n".join(lines) + "\n"


def write_table(corrections: Iterable[tuple[str, str]], directory: Path) -> Path:
    """The table file for these corrections, written once (atomically) under ``directory``."""
    text = rules(corrections)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = Path(directory) / f"corrections-{digest}.ctb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def table_list(base: str, corrections_table: Path | None) -> list[str]:
    """The tables liblouis is given: the corrections first (their rules win), then the base."""
    return [str(corrections_table), base] if corrections_table else [base]
