"""From blocks to the lines the engine translates and the layout plan that places them.

Every block becomes one or more *units*: a unit is one line of print for the engine (no
newlines) plus how braille formatting places it: indent of its first line and of its runovers,
centring, blank lines, keep-with-next. A forced line break or a print page change inside a block
splits it into units that continue the block at its runover margin. Print page changes between
blocks are units of their own with no text.

The format rules (BANA *Braille Formats: Principles of Print-to-Braille Transcription* 2016):
- headings §4.2–4.6: the document's heading levels in use are mapped, most important first, to
  centred headings (blank line before and after), cell-5 headings (blank line before; runovers in
  cell 5) and cell-7 headings (no blank lines; runovers in cell 7); a heading is kept with the
  first line of what follows it (§4.3); print emphasis of a whole heading is typography that the
  braille heading format already conveys, so it is not shown; emphasis of part of a heading is;
- paragraphs §1.9: indented, first line in cell 3, runovers in cell 1 (3-1);
- lists §8: items in cell 1 with runovers in cell 3 (1-3); nested lists start each level two cells
  further right, and every runover is two cells right of the deepest level used by that list
  (1-5, 3-5; 1-7, 3-7, 5-7); a blank line before and after the list; a further paragraph of an
  item starts two cells right of the item's own first cell;
- block quotations (displayed material): paragraphs 3-1 with a blank line before and after;
- tables §11, listed format: each row in 1-3 with a blank line before and after the table,
  entries separated by semicolons, each but the row heading labelled with its column heading
  ("heading: entry") when the table has a heading row.
Cells are counted from 0 here: "cell 3" is indent 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blocks import (BlockQuote, Document, Heading, Inline, LineBreak, ListItem, PageBreak,
                     PageMarker, Paragraph, Span, Table, has_text, normalise_inlines)
from .emphasis import segment_text

MAX_LIST_LEVEL = 5  # deeper nesting is laid out at this level (runover cell 13)


@dataclass
class Unit:
    role: str  # heading, paragraph, item, quote, row, caption, page
    line: int | None = None  # index into the translated lines; None for page changes
    first: int = 0  # indent of the first braille line, in cells
    runover: int = 0  # indent of the following lines
    centred: bool = False
    blank_before: bool = False
    blank_after: bool = False
    keep_with_next: bool = False
    continues: bool = False  # continues the previous unit's block after a line or page break
    page: str | None = None  # role "page": label of the print page that begins
    tier: int | None = None  # headings: 0 centred, 1 cell 5, 2 cell 7


@dataclass
class Plan:
    units: list[Unit]
    lines: list[str]
    typeforms: list[list[int] | None]


def heading_tiers(levels: set[int]) -> dict[int, int]:
    """Heading level → braille tier (0 centred, 1 cell-5, 2 cell-7), by the levels in use."""
    return {level: min(i, 2) for i, level in enumerate(sorted(levels))}


def _levels(blocks) -> set[int]:
    found: set[int] = set()
    for b in blocks:
        if isinstance(b, Heading) and has_text(b.content):
            found.add(b.level)
        elif isinstance(b, BlockQuote):
            found |= _levels(b.blocks)
    return found


class _Builder:
    def __init__(self, tiers: dict[int, int]) -> None:
        self.tiers = tiers
        self.units: list[Unit] = []
        self.lines: list[str] = []
        self.typeforms: list[list[int] | None] = []

    def page(self, number: str) -> None:
        self.units.append(Unit("page", page=number))

    def block(self, content: list[Inline], role: str, first: int, runover: int, *,
              centred: bool = False, blank_before: bool = False, blank_after: bool = False,
              keep: bool = False, tier: int | None = None) -> bool:
        """Add the units of one block; False if it had no text (its page markers still count)."""
        segments: list[list[Inline] | str] = [[]]
        for item in normalise_inlines(content):
            if isinstance(item, LineBreak):
                segments.append([])
            elif isinstance(item, PageMarker):
                segments.append(item.number)
                segments.append([])
            else:
                segments[-1].append(item)
        placed: list[Unit] = []
        for seg in segments:
            if isinstance(seg, str):
                self.page(seg)
                continue
            raw, typeform = segment_text(seg)
            text = raw.strip(" ")
            if not text:
                continue
            if typeform is not None:
                lead = len(raw) - len(raw.lstrip(" "))
                typeform = typeform[lead:lead + len(text)]
                if role == "heading" and all(f for f, ch in zip(typeform, text) if ch != " "):
                    typeform = None  # the whole heading emphasised: the format shows it already
                typeform = typeform if typeform and any(typeform) else None
            unit = Unit(role, len(self.lines), first if not placed else runover, runover,
                        centred=centred, keep_with_next=keep, continues=bool(placed), tier=tier)
            if not placed:
                unit.blank_before = blank_before
            self.lines.append(text)
            self.typeforms.append(typeform)
            self.units.append(unit)
            placed.append(unit)
        if placed:
            placed[-1].blank_after = blank_after
        return bool(placed)

    def blocks(self, blocks, quote: bool = False) -> None:
        i = 0
        while i < len(blocks):
            b = blocks[i]
            if isinstance(b, ListItem):
                j = i
                while j < len(blocks) and isinstance(blocks[j], (ListItem, PageBreak)):
                    j += 1
                self.list_run(blocks[i:j])
                i = j
                continue
            if isinstance(b, PageBreak):
                self.page(b.number)
            elif isinstance(b, Heading):
                tier = self.tiers.get(b.level, 2)
                if tier == 0:
                    self.block(b.content, "heading", 0, 0, centred=True, blank_before=True,
                               blank_after=True, keep=True, tier=0)
                elif tier == 1:
                    self.block(b.content, "heading", 4, 4, blank_before=True, keep=True, tier=1)
                else:
                    self.block(b.content, "heading", 6, 6, keep=True, tier=2)
            elif isinstance(b, Paragraph):
                self.block(b.content, "quote" if quote else "paragraph", 2, 0)
            elif isinstance(b, BlockQuote):
                start = len(self.units)
                self.blocks(b.blocks, quote=True)
                self._frame(start)
            elif isinstance(b, Table):
                self.table(b)
            i += 1

    def _frame(self, start: int) -> None:
        """Blank line before the first and after the last text unit added since ``start``."""
        texts = [u for u in self.units[start:] if u.line is not None]
        if texts:
            texts[0].blank_before = True
            texts[-1].blank_after = True

    def list_run(self, run) -> None:
        deepest = min(max(b.level for b in run if isinstance(b, ListItem)), MAX_LIST_LEVEL)
        runover = 2 * (deepest + 1)
        start = len(self.units)
        for b in run:
            if isinstance(b, PageBreak):
                self.page(b.number)
                continue
            level = min(b.level, MAX_LIST_LEVEL)
            content = ([Span(b.marker + " ")] + list(b.content)) if b.marker else b.content
            # a further paragraph of an item starts where the item's text runs over
            first = min(2 * level + 2, runover) if b.continuation else 2 * level
            self.block(content, "item", first, runover)
        self._frame(start)

    def table(self, table: Table) -> None:
        start = len(self.units)
        if table.caption:
            self.block(table.caption, "caption", 4, 4)
        width = max((len(r) for r in table.rows), default=0)
        labelled = table.header_rows > 0 and width > 1
        heads = table.rows[table.header_rows - 1] if labelled else []
        for r, row in enumerate(table.rows):
            if labelled and r < table.header_rows:
                continue
            content: list[Inline] = []
            for c, cell in enumerate(row):
                if not has_text(cell):
                    continue
                if content:
                    content.append(Span("; "))
                if labelled and c > 0 and c < len(heads) and has_text(heads[c]):
                    content.extend(heads[c])
                    content.append(Span(": "))
                content.extend(cell)
            self.block(content, "row", 0, 2)
        self._frame(start)


def plan(document: Document) -> Plan:
    builder = _Builder(heading_tiers(_levels(document.blocks)))
    builder.blocks(document.blocks)
    return Plan(builder.units, builder.lines, builder.typeforms)
