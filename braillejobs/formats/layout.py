"""Braille pages: words placed on lines of a fixed width, lines on pages of a fixed length.

Shared by the BRF and PEF writers; works in Unicode braille (U+2800–U+283F). Rules implemented
(BANA *Braille Formats* 2016):
- §1.10 word division: a braille word is never divided between lines unless it is longer than a
  line; such a word fills each line and continues on the next.
- §1.15 braille page numbers: at the right margin of the last line of every page, as a number
  with the numeric indicator; at least three blank cells separate text from it.
- §1.11 print page numbers: when the document has print page markers, the print page number is
  at the right margin of the first line (again with three blank cells before it). A print page
  that continues onto another braille page is shown there with a letter before it: a#12, b#12.
  Where a new print page begins inside a braille page, a print page change indicator is a line of
  unspaced dots 3-6 from the left margin to the new print page number at the right margin; it is
  never on the last line (the new page then begins at the top of the next braille page, where
  only the first-line number shows it), and not on the first line. No blank line is left next
  to the indicator, nor at the top of a page.
- §4.3 a heading is not left at the bottom of a page without the first line that follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from .flow import Unit

BLANK = "\u2800"
NUMERIC = "\u283c"  # dots 3-4-5-6
DOTS36 = "\u2824"  # dots 3-6
CAPITAL = "\u2820"  # dot 6
GRADE1 = "\u2830"  # dots 5-6
_LETTERS = {c: chr(0x2800 + bits) for c, bits in zip(
    "abcdefghijklmnopqrstuvwxyz",
    (0x01, 0x03, 0x09, 0x19, 0x11, 0x0B, 0x1B, 0x13, 0x0A, 0x1A, 0x05, 0x07, 0x0D, 0x1D, 0x15,
     0x0F, 0x1F, 0x17, 0x0E, 0x1E, 0x25, 0x27, 0x3A, 0x2D, 0x3D, 0x35))}
_DIGITS = {str(d): _LETTERS["jabcdefghi"[d]] for d in range(10)}
HEADER_GAP = 3  # blank cells between text and a page number on the same line


def number_cells(label: str) -> str:
    """A page number label in braille: digit runs with the numeric indicator, letters as letters.

    A letter right after digits, or a single letter on its own, takes the grade 1 indicator so it
    is not read as a digit or a word. Characters other than letters and digits are left out.
    """
    out = []
    for m in re.finditer(r"\d+|[A-Za-z]+", label):
        run = m.group(0)
        if run.isdigit():
            out.append(NUMERIC + "".join(_DIGITS[d] for d in run))
        else:
            if out or len(run) == 1:
                out.append(GRADE1)
            for ch in run:
                out.append((CAPITAL if ch.isupper() else "") + _LETTERS[ch.lower()])
    return "".join(out)


def continuation_letters(k: int) -> str:
    """The letter for the k-th continuation page (0 → a, 25 → z, 26 → aa, ...)."""
    return _LETTERS["abcdefghijklmnopqrstuvwxyz"[k % 26]] * (k // 26 + 1)


@dataclass
class Page:
    rows: list[str]  # exactly lines_per_page rows of Unicode braille, right-trimmed
    number: int  # braille page number
    print_label: str | None = None  # cells shown at the right of the first line
    opens_with_tier: int | None = None  # heading tier of the first text on the page
    kinds: list[str] = field(default_factory=list)  # per row: text, blank, indicator, empty


class Paginator:
    def __init__(self, width: int, length: int) -> None:
        self.width = width
        self.length = length
        self.pages: list[Page] = []
        self.rows: list[str] | None = None
        self.kinds: list[str] = []
        self.print_page: str | None = None
        self.print_count = 0  # braille pages the current print page has appeared on
        self.label: str | None = None  # print page cells for the current braille page
        self.pending_blank = False
        self.opens_with: int | None = None
        self.first_text = True

    # -- pages -----------------------------------------------------------------------------
    def _open(self) -> None:
        self.rows, self.kinds = [], []
        self.opens_with = None
        self.first_text = True
        self._set_label()

    def _set_label(self) -> None:
        if self.print_page is None:
            self.label = None
            return
        cells = number_cells(self.print_page)
        self.label = cells if self.print_count == 0 else \
            continuation_letters(self.print_count - 1) + cells
        self.print_count += 1

    def _close(self) -> None:
        assert self.rows is not None
        rows = self.rows + [""] * (self.length - len(self.rows))
        kinds = self.kinds + ["empty"] * (self.length - len(self.kinds))
        number = len(self.pages) + 1
        bnum = number_cells(str(number))
        if self.label:
            rows[0] = self._with_number(rows[0], self.label)
        rows[-1] = self._with_number(rows[-1], bnum)
        self.pages.append(Page([r.rstrip(BLANK) for r in rows], number, self.label,
                               self.opens_with, kinds))
        self.rows = None

    def _with_number(self, row: str, cells: str) -> str:
        return row.ljust(self.width - len(cells), BLANK)[:self.width - len(cells)] + cells

    def _avail(self, row: int) -> int:
        """Cells usable for text on row ``row`` of the current page."""
        avail = self.width
        if row == 0 and self.label:
            avail = min(avail, self.width - len(self.label) - HEADER_GAP)
        if row == self.length - 1:
            bnum = number_cells(str(len(self.pages) + 1))
            avail = min(avail, self.width - len(bnum) - HEADER_GAP)
        return max(avail, 0)

    def _row_index(self) -> int:
        if self.rows is None or len(self.rows) >= self.length:
            if self.rows is not None:
                self._close()
            self._open()
        assert self.rows is not None
        return len(self.rows)

    def _emit(self, row: str, kind: str) -> None:
        self._row_index()
        assert self.rows is not None
        self.rows.append(row)
        self.kinds.append(kind)

    def remaining(self) -> int:
        if self.rows is None or len(self.rows) >= self.length:
            return self.length
        return self.length - len(self.rows)

    def at_top(self) -> bool:
        return self.rows is None or len(self.rows) in (0, self.length)

    # -- content ---------------------------------------------------------------------------
    def blank(self) -> None:
        self.pending_blank = True

    def _flush_blank(self) -> None:
        if not self.pending_blank:
            return
        self.pending_blank = False
        if self.at_top() or self.kinds[-1] in ("blank", "indicator"):
            return
        self._emit("", "blank")

    def new_print_page(self, label: str) -> None:
        self.pending_blank = False
        if self.at_top():
            if self.rows is not None and len(self.rows) >= self.length:
                self._close()
                self.rows = None
            self.print_page, self.print_count = label, 0
            if self.rows is not None:  # an open, empty page: it begins with the new print page
                self._set_label()
            return
        if len(self.rows) == self.length - 1:  # never on the last line
            self._close()
            self.print_page, self.print_count = label, 0
            return
        cells = number_cells(label)
        self._emit(DOTS36 * max(self.width - len(cells), 1) + cells, "indicator")
        self.print_page, self.print_count = label, 1

    def place(self, braille: str, first: int, runover: int, centred: bool = False,
              tier: int | None = None, keep_lines: int = 0) -> None:
        """Lay out one unit's braille; ``keep_lines`` more rows must fit on the same page."""
        words = [w for w in braille.split(BLANK) if w]
        if not words:
            return
        words.reverse()  # a stack: the next word is words[-1]
        cap = self.width // 2
        first, runover = min(first, cap), min(runover, cap)
        if keep_lines:
            need = self.count_rows(braille, first, runover, centred) + keep_lines
            need += 1 if (self.pending_blank and not self.at_top()) else 0
            if need <= self.length and need > self.remaining() and not self.at_top():
                self.pending_blank = False
                self._close()
        self._flush_blank()
        indent = first
        done = 0  # cells of the next word already placed (a word longer than a line)
        while words:
            row = self._row_index()
            avail = self._avail(row)
            limit = min(self.width - 6, avail) if centred else avail - indent
            if limit < 1:
                self._emit("", "empty")
                continue
            parts: list[str] = []
            used = 0
            while words:
                w = words[-1]
                left = len(w) - done
                need = left + (1 if parts else 0)
                if used + need <= limit:
                    parts.append(w[done:] if done else w)
                    used += need
                    words.pop()
                    done = 0
                    continue
                line_room = (self.width - 6) if centred else self.width - indent
                if not parts and left > line_room:  # longer than a line: fill and continue
                    # slice one line's worth: taking the rest of the word each time would copy
                    # it once per line, quadratic in its length
                    parts.append(w[done:done + limit])
                    done += limit
                break
            text = BLANK.join(parts)
            if centred:
                start = max(0, min((self.width - len(text)) // 2, avail - len(text)))
            else:
                start = indent
            if parts and self.first_text:
                self.opens_with = tier
                self.first_text = False
            self._emit(BLANK * start + text if parts else "", "text" if parts else "empty")
            indent = runover

    def count_rows(self, braille: str, first: int, runover: int, centred: bool) -> int:
        rows, used, indent = 1, 0, first
        for w in (w for w in braille.split(BLANK) if w):
            limit = (self.width - 6) if centred else self.width - indent
            need = len(w) + (1 if used else 0)
            if used + need <= limit:
                used += need
            else:
                rows += 1
                indent = runover
                used = len(w)
                limit = (self.width - 6) if centred else self.width - indent
                while used > limit:
                    rows += 1
                    used -= limit
        return rows

    def finish(self) -> list[Page]:
        if self.rows is None and not self.pages:
            self._open()
        if self.rows is not None:
            self._close()
        return self.pages


def paginate(units: Sequence[Unit], braille: Sequence[str], width: int, length: int
             ) -> list[Page]:
    """Pages of braille for the plan ``units`` and the translated lines ``braille``."""
    pager = Paginator(width, length)
    for i, unit in enumerate(units):
        if unit.role == "page":
            pager.new_print_page(unit.page or "")
            continue
        text = braille[unit.line] if unit.line is not None else ""
        if not text.strip(BLANK):
            continue
        if unit.blank_before:
            pager.blank()
        keep = 0
        if unit.keep_with_next and i + 1 < len(units) and not (
                i + 1 < len(units) and units[i + 1].continues):
            keep = 1 + (1 if unit.blank_after else 0)
        pager.place(text, unit.first, unit.runover, unit.centred, unit.tier, keep)
        if unit.blank_after:
            pager.blank()
    return pager.finish()
