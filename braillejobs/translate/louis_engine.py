"""liblouis as an engine: the reference translator and the last step of the fallback chain.

Long lines are translated in pieces. liblouis takes time in proportion to a line's length but
holds about 175 bytes of working memory per character for the whole call (1.7 GB for a 10 MB
line with no line breaks), so a line longer than ``PIECE_CHARS`` is cut, at a space where there is
one, into pieces of about that length. Each piece is translated with ``CONTEXT_CHARS`` of the line
on either side, and only the cells that liblouis attributes to the piece itself are kept: the
indicators and contractions at a cut are chosen seeing the same text as one call would (a capital
or emphasis passage that runs on, a number that continues, UEB §§5–9), so the joined pieces give
the braille of one call, cell for cell.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from .engine import EngineError, LineTranslation, check_table

_louis_lock = threading.Lock()  # liblouis keeps global state; one call at a time per process
PIECE_CHARS = 50_000  # lines longer than this are translated in pieces of about this length
CONTEXT_CHARS = 1_000  # print on each side of a piece that liblouis sees; its cells are dropped


def load_louis():
    try:
        import louis  # type: ignore
    except ImportError:
        raise EngineError(
            "the liblouis Python module is not importable: install Debian's liblouis20 "
            "liblouis-data python3-louis and run scripts/setup.sh, which links it into the "
            "virtualenv") from None
    return louis


def translate_with_positions(table: str, text: str, typeform: Sequence[int] | None = None
                             ) -> tuple[str, list[int]]:
    """Unicode braille for ``text`` and, for each output cell, the input index it came from."""
    louis = load_louis()
    mode = louis.dotsIO | louis.ucBrl
    with _louis_lock:
        braille, in_pos, _out_pos, _cursor = louis.translate(
            [table], text, typeform=list(typeform) if typeform is not None else None, mode=mode)
    in_pos = list(in_pos)
    if louis.wideCharBytes == 2 and any(ord(c) > 0xFFFF for c in text):
        units = [i for i, c in enumerate(text) for _ in range(2 if ord(c) > 0xFFFF else 1)]
        in_pos = [units[p] for p in in_pos]  # UTF-16 positions back to code points
    return braille, in_pos


class AlignmentError(ValueError):
    """liblouis's position map for a line is not monotonic, so it cannot be split per character."""


def align(text: str, table: str, typeform: Sequence[int] | None = None) -> tuple[str, list[str]]:
    """liblouis's braille for ``text`` and its split into one chunk per input character.

    Invariant: ``"".join(chunks) == braille``. Raises AlignmentError when the position map goes
    backwards or points outside the input.
    """
    braille, in_pos = translate_with_positions(table, text, typeform)
    chunks = [""] * len(text)
    if not braille:
        return braille, chunks
    positions = np.asarray(in_pos, dtype=np.int64)
    if len(positions) != len(braille):
        raise AlignmentError(f"position map has {len(positions)} entries for {len(braille)} cells")
    if np.any(np.diff(positions) < 0) or positions[0] < 0 or positions[-1] >= len(text):
        raise AlignmentError("liblouis position map is not monotonic")
    # cells with the same input position are contiguous: cut the braille where the position changes
    starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
    ends = np.r_[starts[1:], len(braille)]
    for s, e in zip(starts.tolist(), ends.tolist()):
        chunks[positions[s]] = braille[s:e]
    return braille, chunks


def cut_points(line: str, piece: int) -> list[int]:
    """Where to cut ``line`` into pieces of at most ``piece`` characters: at the last space of
    each piece's second half, or (a run of more than half a piece without a space) anywhere."""
    cuts, start = [0], 0
    while len(line) - start > piece:
        cut = line.rfind(" ", start + piece // 2, start + piece)
        start = cut if cut > start else start + piece
        cuts.append(start)
    return cuts + [len(line)]


def translate_in_pieces(table: str, line: str, typeform: Sequence[int] | None = None,
                        piece: int | None = None, context: int | None = None) -> str:
    """Unicode braille for a long ``line``, translated a piece at a time (see the module's
    docstring): each call sees at most ``piece + 2 * context`` characters (by default
    ``PIECE_CHARS`` and ``CONTEXT_CHARS``)."""
    return line_with_positions(table, line, typeform, piece, context)[0]


def line_with_positions(table: str, line: str, typeform: Sequence[int] | None = None,
                        piece: int | None = None, context: int | None = None
                        ) -> tuple[str, list[int]]:
    """Unicode braille for ``line`` of any length and, for each cell, the index in ``line`` of
    the character it came from; a line longer than ``piece`` is translated in pieces."""
    piece = piece or PIECE_CHARS
    context = CONTEXT_CHARS if context is None else context
    if len(line) <= piece:
        return translate_with_positions(table, line, typeform)
    cuts = cut_points(line, piece)
    out: list[str] = []
    where: list[int] = []
    for start, end in zip(cuts, cuts[1:]):
        lo, hi = max(0, start - context), min(len(line), end + context)
        braille, positions = translate_with_positions(
            table, line[lo:hi], typeform[lo:hi] if typeform is not None else None)
        first, stop = 0, len(positions)  # the cells that came from line[start:end]
        while first < stop and positions[first] < start - lo:
            first += 1
        while stop > first and positions[stop - 1] >= end - lo:
            stop -= 1
        out.append(braille[first:stop])
        where.extend(p + lo for p in positions[first:stop])
    return "".join(out), where


def translate_string(tables: str, text: str, typeform: Sequence[int] | None = None) -> str:
    """Unicode braille for ``text`` (``tables`` a comma-separated list); a text longer than
    ``PIECE_CHARS`` is translated in pieces."""
    if len(text) > PIECE_CHARS:
        return translate_in_pieces(tables, text, typeform)
    louis = load_louis()
    tf = list(typeform) if typeform is not None else None
    with _louis_lock:
        return louis.translateString([tables], text, typeform=tf, mode=louis.dotsIO | louis.ucBrl)


class LouisEngine:
    """liblouis with ``table``, and with the transcribers' corrections when given (their table
    listed first: see :mod:`braillejobs.corrections.table`)."""

    name = "louis"

    def __init__(self, table: str, corrections=None):
        self.table = check_table(table)
        self.corrections = corrections
        # the table list liblouis is given, as one comma-separated name
        self.tables = corrections.tables if corrections is not None else self.table
        try:
            load_louis().checkTable([self.tables])
        except RuntimeError:
            raise EngineError(f"liblouis cannot load table {self.tables!r}: install "
                              "liblouis-data") from None

    def translate_text(self, line: str, typeform: Sequence[int] | None = None) -> str:
        return translate_string(self.tables, line, typeform)

    def translate_lines(self, lines: Sequence[str],
                        typeforms: Sequence[Sequence[int] | None] | None = None
                        ) -> list[LineTranslation]:
        out = []
        for i, line in enumerate(lines):
            tf = typeforms[i] if typeforms is not None else None
            out.append(LineTranslation(self.translate_text(line, tf),
                                       {"louis": len(line)} if line else {}))
        return out
