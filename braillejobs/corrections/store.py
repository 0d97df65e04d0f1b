"""Corrections in the database: add, list, remove, and the upsert that import uses.

Each correction is unique by (set, table, print text). Print text is lower case, with its
whitespace collapsed, and the braille has no capital indicators: one correction holds for every
capitalisation of its text, each use getting the indicators its form needs. Braille is kept as
Unicode cells (:mod:`.braille`). Adding one that exists is
refused unless ``replace`` is given, so that nobody overwrites a colleague's ruling unawares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import delete, select

from ..db.models import CORRECTION_ORIGINS, GLOBAL_CORRECTIONS, Correction, utcnow
from ..db.session import session_factory
from ..translate.engine import check_table
from . import CorrectionError
from .braille import read_braille
from .check import refusal

MAX_PRINT = 200
MAX_BRAILLE = 400
_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Proposed:
    """A correction checked and ready to store."""
    print_text: str
    braille: str
    table: str
    set_name: str
    note: str | None = None
    author: str | None = None
    origin: str = "typed"


def read_print(text: str) -> str:
    """Print text as stored: one line, whitespace collapsed, at most 200 characters."""
    if not isinstance(text, str):
        raise CorrectionError("the print text must be text")
    if any(c in text for c in "\r\n\f\v\x85\u2028\u2029"):
        raise CorrectionError("the print text must be one line (a word or a phrase)")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text if c != "\t"):
        raise CorrectionError("the print text holds control characters")
    words = text.split()
    if not words:
        raise CorrectionError("the print text is empty")
    out = " ".join(words)
    if len(out) > MAX_PRINT:
        raise CorrectionError(f"the print text is {len(out)} characters long; a correction is "
                              f"a word or a phrase of at most {MAX_PRINT}")
    return out


def read_set(name: str | None) -> str:
    name = name or GLOBAL_CORRECTIONS
    if not _SET_NAME.fullmatch(name):
        raise CorrectionError(f"{name!r} is not a set name: letters, digits, '.', '_' and '-', "
                              "at most 100, starting with a letter or digit")
    return name


def propose(print_text: str, braille: str, *, table: str, set_name: str | None = None,
            note: str | None = None, author: str | None = None, origin: str = "typed",
            force: bool = False) -> Proposed:
    """Check one correction: its fields, and that liblouis reads the braille back as the print
    text (unless ``force``). Raises :class:`CorrectionError` with the reason."""
    text = read_print(print_text)
    if text != text.lower():
        raise CorrectionError(
            f"give the print text in lower case ({text.lower()!r}) and the braille without "
            "capital indicators: a correction holds for every capitalisation of its text, and "
            "each use gets the indicators its form needs (⠠ Knowledge, ⠠⠠ KNOWLEDGE, a "
            "capitals passage)")
    cells = read_braille(braille)
    if len(cells) > MAX_BRAILLE:
        raise CorrectionError(f"the braille is {len(cells)} cells long (at most {MAX_BRAILLE})")
    check_table(table)
    if origin not in CORRECTION_ORIGINS:
        raise CorrectionError(f"unknown origin {origin!r}: one of {', '.join(CORRECTION_ORIGINS)}")
    if not force:
        why = refusal(text, cells, table)
        if why:
            raise CorrectionError(why)
    return Proposed(text, cells, table, read_set(set_name), _optional(note, "note", 2000),
                    _optional(author, "author", 200), origin)


def _optional(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    if len(value) > limit:
        raise CorrectionError(f"the {what} is longer than {limit} characters")
    return value or None


def add(proposed: Proposed, *, replace: bool = False) -> tuple[Correction, str]:
    """Store one checked correction. Returns it and what happened: added, replaced, unchanged
    or "note updated on" (the same braille with a new note). An existing correction with other
    braille for the same print text is refused unless ``replace``."""
    with session_factory()() as session:
        found = _find(session, proposed)
        if found is not None:
            if found.braille == proposed.braille:
                if proposed.note is None or proposed.note == found.note:
                    return found, "unchanged"
                found.note = proposed.note          # the same ruling, a new reason for it
                session.commit()
                return found, "note updated on"
            if not replace:
                raise CorrectionError(
                    f"{proposed.print_text!r} already has a correction in set "
                    f"{proposed.set_name} for {proposed.table} (id {found.id}, {found.braille}); "
                    "remove it first, or replace it (--replace)")
            _fill(found, proposed)
            session.commit()
            return found, "replaced"
        row = Correction(created_at=utcnow())
        _fill(row, proposed)
        session.add(row)
        session.commit()
        return row, "added"


def add_many(proposed: Sequence[Proposed], *, replace: bool = False) -> dict[str, int]:
    """Store many in one transaction (an import): all or none. Counts by what happened."""
    counts = {"added": 0, "replaced": 0, "unchanged": 0, "kept": 0}
    with session_factory()() as session:
        for item in proposed:
            found = _find(session, item)
            if found is None:
                row = Correction(created_at=utcnow())
                _fill(row, item)
                session.add(row)
                session.flush()
                counts["added"] += 1
            elif found.braille == item.braille:
                counts["unchanged"] += 1
            elif replace:
                _fill(found, item)
                counts["replaced"] += 1
            else:
                counts["kept"] += 1
        session.commit()
    return counts


def _find(session, item: Proposed) -> Correction | None:
    return session.scalars(select(Correction).where(
        Correction.set_name == item.set_name, Correction.table == item.table,
        Correction.print_text == item.print_text)).first()


def _fill(row: Correction, item: Proposed) -> None:
    row.set_name, row.table, row.print_text = item.set_name, item.table, item.print_text
    row.braille, row.note, row.author, row.origin = item.braille, item.note, item.author, \
        item.origin
    row.created_at = utcnow()


def listing(*, set_name: str | None = None, table: str | None = None,
            url: str | None = None) -> list[Correction]:
    """Corrections, by set, table and print text (all sets unless one is named); ``url``: the
    database (default: the setting)."""
    query = select(Correction)
    if set_name is not None:
        query = query.where(Correction.set_name == read_set(set_name))
    if table is not None:
        query = query.where(Correction.table == check_table(table))
    query = query.order_by(Correction.set_name, Correction.table, Correction.print_text)
    with session_factory(url)() as session:
        return list(session.scalars(query))


def remove(keys: Iterable[str], *, set_name: str | None = None,
           table: str | None = None) -> list[Correction]:
    """Remove corrections named by id or by print text (in the set, default global, and table,
    default every table). Every key must name at least one; nothing is removed otherwise."""
    keys = list(keys)
    if not keys:
        raise CorrectionError("name the corrections to remove, by id or by print text")
    with session_factory()() as session:
        chosen: dict[int, Correction] = {}
        missing = []
        for key in keys:
            query = select(Correction)
            if key.isdigit():
                query = query.where(Correction.id == int(key))
            else:
                query = query.where(Correction.print_text == read_print(key),
                                    Correction.set_name == read_set(set_name))
                if table is not None:
                    query = query.where(Correction.table == check_table(table))
            rows = list(session.scalars(query))
            if not rows:
                missing.append(key)
            chosen.update((row.id, row) for row in rows)
        if missing:
            raise CorrectionError(
                "no correction " + ", ".join(repr(k) for k in missing) + " in set "
                f"{read_set(set_name)}; `braillejobs corrections list` shows them; nothing "
                "was removed")
        session.execute(delete(Correction).where(Correction.id.in_(list(chosen))))
        session.commit()
        return sorted(chosen.values(), key=lambda r: r.id)
