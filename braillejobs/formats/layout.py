"""Braille pages: words placed on lines of a fixed width, lines on pages of a fixed length.

Shared by the BRF and PEF writers; works in Unicode braille (U+2800–U+283F). Rules implemented
(BANA *Braille Formats* 2016):
- §1.10 word division: a braille word is never divided between lines unless it is longer than a
  line; such a word is divided where :mod:`.divide` allows (UEB 6.10, 10.13), as late on each
  line as its rules let, the first part closed by a hyphen or the line continuation indicator.
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

from .divide import CONTINUATION, Divider
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
              tier: int | None = None, keep_lines: int = 0, divider: Divider | None = None,
              preformatted: bool = False) -> None:
        """Lay out one unit's braille; ``keep_lines`` more rows must fit on the same page.

        A token longer than a whole line is divided where ``divider`` says (formats.divide),
        its first part closed by the sign the division calls for; without one (braille with no
        print behind it) each full line ends with the line continuation indicator. Preformatted
        text (code) keeps its runs of blanks; a line of it runs over at a blank.
        """
        if not braille.strip(BLANK):
            return
        # a stack of tokens, the next one last; ``at`` is the next one's offset in ``braille``
        # (for the divider). Empty tokens (runs of blanks) count for the offsets; preformatted
        # text keeps them inside a line.
        words = braille.rstrip(BLANK).split(BLANK)
        words.reverse()
        at = 0
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
        part = 0  # cells of the next token already placed (a divided token)
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
                size = len(w)
                if not size and not (parts and preformatted):
                    words.pop()  # a second blank; or one at the start of a line
                    at += 1
                    continue
                need = size - part + (1 if parts else 0)
                if used + need <= limit:
                    parts.append(w[part:] if part else w)
                    used += need
                    words.pop()
                    at += size + 1
                    part = 0
                    continue
                line_room = (self.width - 6) if centred else self.width - indent
                if parts and size - part > self.width - runover and divider is not None:
                    # a token no line could hold starts on this line when a division fits:
                    # as much of it as there is room for (BANA §1.10)
                    cut = divider.choose(at, at + size, at + part, limit - used - 1)
                    if cut is not None:
                        parts.append(w[part:cut[0] - at] + cut[1])
                        part = cut[0] - at
                    break
                if not parts and size - part > line_room:  # longer than a line: divide it
                    cut = divider.choose(at, at + size, at + part, limit) \
                        if divider else None
                    if cut is None and limit >= 2 and (divider is None or limit >= line_room):
                        # no print to go by, or no division at all: fill the line and show
                        # that it continues (a shorter last row is left for the next page's)
                        cut = (at + part + limit - 1, CONTINUATION)
                    if cut is not None:
                        parts.append(w[part:cut[0] - at] + cut[1])
                        part = cut[0] - at
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


def _kept_rows(pager: Paginator, units: Sequence[Unit], braille: Sequence[str], i: int) -> int:
    """Rows that must follow unit ``i`` (a heading) on its page: the blank lines after it, any
    headings that follow it directly (they keep with what follows them in turn), and the first
    line of the first text after them (BANA §4.3)."""
    rows, blank = 0, units[i].blank_after
    for unit in units[i + 1:]:
        text = braille[unit.line] if unit.line is not None else ""
        if unit.role == "page" or not text.strip(BLANK):
            continue
        rows += 1 if blank or unit.blank_before else 0
        if not unit.keep_with_next:
            return rows + 1
        rows += pager.count_rows(text, unit.first, unit.runover, unit.centred)
        blank = unit.blank_after
    return rows


def paginate(units: Sequence[Unit], braille: Sequence[str], width: int, length: int,
             dividers: dict[int, Divider] | None = None) -> list[Page]:
    """Pages of braille for the plan ``units`` and the translated lines ``braille``;
    ``dividers``: by line, where its tokens longer than a line may be divided."""
    pager = Paginator(width, length)
    dividers = dividers or {}
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
        if unit.keep_with_next and i + 1 < len(units) and not units[i + 1].continues:
            keep = _kept_rows(pager, units, braille, i)
        pager.place(text, unit.first, unit.runover, unit.centred, unit.tier, keep,
                    dividers.get(unit.line), unit.preformatted)
        if unit.blank_after:
            pager.blank()
    return pager.finish()
