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

from . import charset, levels
from .blocks import (EMPHASIS_MASK, LEVEL_MASK, NO_CONTRACT, STRIKE, TRANSNOTE, BlockQuote,
                     Code, Document, Heading, Inline, LineBreak, ListItem, PageBreak,
                     PageMarker, Paragraph, Rule, Span, Table, has_text, normalise_inlines,
                     plain_text, table_grid)
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
    preformatted: bool = False  # code: its inner spacing kept, lines never joined


@dataclass
class Plan:
    units: list[Unit]
    lines: list[str]
    typeforms: list[list[int] | None]
    transcribed: charset.Transcribed | None = None  # characters without a braille sign


# What the transcriber's note at the head of a document says about conventions it uses (BANA
# Braille Formats 3.1: every change from print the reader should know of is explained in a note).
NOTE_CODE = ("computer code is uncontracted and keeps its print indentation; a line of code "
             "too long for the braille line continues two cells right of the deepest "
             "indentation of its block, and a code line divided inside a word ends with dot 5")
NOTE_TABLE = ("tables are set out one row at a time: each entry follows its column heading and "
              "a colon, entries are separated by semicolons, a dash stands for an empty cell")
NOTE_STRIKE = "\u2808\u283c marks text crossed out in print"  # ⠈⠼: 1st transcriber-defined


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
    def __init__(self, tiers: dict[int, int], contracted: bool = True) -> None:
        self.tiers = tiers
        self.contracted = contracted
        self.units: list[Unit] = []
        self.lines: list[str] = []
        self.typeforms: list[list[int] | None] = []
        self.transcribed = charset.Transcribed()
        self.notes: list[str] = []  # conventions to explain in the note at the head

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def inlines(self, content: list[Inline]) -> list[Inline]:
        """Inline content ready for the engine: characters without a braille sign transcribed,
        superscripts and subscripts as level indicators, white space normalised."""
        content = normalise_inlines(content)
        flags, plain = 0, True  # one look at the spans decides which steps have work to do
        for item in content:
            if isinstance(item, Span):
                flags |= item.emphasis
                plain = plain and item.text.isascii()
        if plain and not flags & (LEVEL_MASK | TRANSNOTE | STRIKE):
            return content  # most text: nothing to transcribe
        content = charset.transcribe(content, self.transcribed, self.contracted)
        content = embedded_notes(levels.apply(content, self.contracted))
        if flags & STRIKE:
            self.note(NOTE_STRIKE)
        return normalise_inlines(content, compose=False)

    def page(self, number: str) -> None:
        self.units.append(Unit("page", page=number))

    def block(self, content: list[Inline], role: str, first: int, runover: int, *,
              centred: bool = False, blank_before: bool = False, blank_after: bool = False,
              keep: bool = False, tier: int | None = None) -> bool:
        """Add the units of one block; False if it had no text (its page markers still count)."""
        segments: list[list[Inline] | str] = [[]]
        for item in self.inlines(content):
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
                if role == "heading" and all(f & EMPHASIS_MASK for f, ch in zip(typeform, text)
                                             if ch != " "):
                    # the whole heading emphasised: the format shows it already
                    typeform = [f & ~EMPHASIS_MASK for f in typeform]
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
            elif isinstance(b, Code):
                self.code(b)
            elif isinstance(b, Rule):
                self.rule()
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
        """Listed format (BANA §11): a caption or full-width title row first, then one unit a
        row in 1-3, every entry after the heading of its column and a colon ("Price: $5"),
        entries separated by semicolons; a row heading (a heading cell in the first column)
        opens its row; an empty cell is a dash. Column headings are built from every header
        row, spans included ("Score, home"); a value spanning columns is announced under all of
        them, one spanning rows is repeated in each."""
        start = len(self.units)
        grid = table_grid(table)
        width = len(grid[0]) if grid else 0
        if table.caption:
            self.block(table.caption, "caption", 4, 4)
        heads: list[list[Inline]] = [[] for _ in range(width)]
        for r in range(min(table.header_rows, len(grid))):
            row = grid[r]
            if _full_width(row) and width > 1:  # a title row above the column headings
                self.block(row[0][0].content, "caption", 4, 4)
                continue
            for c, entry in enumerate(row):
                if entry is None or not has_text(entry[0].content):
                    continue
                text = plain_text(entry[0].content)
                if heads[c] and plain_text(heads[c]).endswith(text):
                    continue
                heads[c] = heads[c] + ([Span(", ")] if heads[c] else []) + list(entry[0].content)
        labelled = any(heads) and width > 1
        if labelled or width > 1:
            self.note(NOTE_TABLE)
        for r in range(table.header_rows, len(grid)):
            row = grid[r]
            if _full_width(row) and width > 1:  # a section title or footer across the table
                self.block(row[0][0].content, "row", 0, 2)
                continue
            heading: list[Inline] = []
            entries: list[list[Inline]] = []
            c = 0
            while c < width:
                entry = row[c]
                cell = entry[0] if entry is not None else None
                span = 1
                while cell is not None and c + span < width and row[c + span] is not None and \
                        row[c + span][0] is cell:
                    span += 1
                value = list(cell.content) if cell is not None and has_text(cell.content) \
                    else [Span("\u2014")]  # an empty cell: a dash
                if c == 0 and cell is not None and cell.header and width > 1:
                    heading = value  # a row heading opens the row
                else:
                    names: list[list[Inline]] = []
                    for k in range(c, c + span) if labelled else ():
                        # columns under one spanning heading share its name: said once
                        if heads[k] and plain_text(heads[k]) not in map(plain_text, names):
                            names.append(heads[k])
                    label: list[Inline] = []
                    for k, name in enumerate(names):
                        if k:
                            label.append(Span(" and " if k == len(names) - 1 else ", "))
                        label.extend(name)
                    entries.append(label + [Span(": ")] + value if label else value)
                c += span
            content: list[Inline] = list(heading) + ([Span(": ")] if heading and entries else [])
            for k, entry in enumerate(entries):
                if k:
                    content.append(Span("; "))
                content.extend(entry)
            self.block(content, "row", 0, 2)
        self._frame(start)

    def code(self, code: Code) -> None:
        """Displayed code: a blank line before and after; each line uncontracted, its print
        indentation kept (one cell a column), runovers two cells right of the deepest
        indentation of the block (ICEB Guidelines for Technical Material, computer notation)."""
        lines = [line.expandtabs(4).rstrip() for line in code.lines]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            return
        self.note(NOTE_CODE)
        indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
        base = min(indents)
        deepest = min(max(indents) - base, 18)
        start = len(self.units)
        for line in lines:
            if not line.strip():
                self.units.append(Unit("code", None, preformatted=True))
                continue
            indent = min(len(line) - len(line.lstrip(" ")) - base, 18)
            content = embedded_notes(charset.transcribe([Span(line.strip(" "), NO_CONTRACT)],
                                                        self.transcribed, self.contracted))
            text, typeform = segment_text(content)
            typeform = [f | NO_CONTRACT for f in typeform] if typeform else \
                [NO_CONTRACT] * len(text)
            self.units.append(Unit("code", len(self.lines), indent, deepest + 2,
                                   preformatted=True))
            self.lines.append(text)
            self.typeforms.append(typeform)
        self._frame(start)

    def rule(self) -> None:
        """A horizontal rule: a blank line (BANA: a break in context is shown by a blank line;
        a full line of cells would read as a print page change indicator)."""
        texts = [u for u in self.units if u.line is not None]
        if texts:
            texts[-1].blank_after = True

    def head_note(self) -> None:
        """The transcriber's note at the head of the document (7-5 margins, BANA 3.1.4)."""
        if not self.notes:
            return
        text = "; ".join(self.notes) + "."
        text = text[0].upper() + text[1:]  # the note indicators ⠈⠨⠣ … ⠈⠨⠜ say what it is
        self.units.insert(0, Unit("note", len(self.lines), 6, 4, blank_after=True))
        self.lines.append(text)
        self.typeforms.append([TRANSNOTE] * len(text))


NOTE_OPEN, NOTE_CLOSE = "\u2808\u2828\u2823", "\u2808\u2828\u281c"  # ⠈⠨⠣ … ⠈⠨⠜ (UEB 3.27)


def embedded_notes(content: list[Inline]) -> list[Inline]:
    """Transcriber's notes inside a line (spans marked TRANSNOTE) with their indicators written
    as braille cells around each run: the note closes right after its last character, before
    any punctuation that follows in print (liblouis places an emphasis terminator after the
    punctuation that ends a word, BANA *Braille Formats* 3.1.4 puts it right after the note)."""
    if not any(isinstance(i, Span) and i.emphasis & TRANSNOTE for i in content):
        return content
    out: list[Inline] = []
    inside = False
    for item in content:
        noted = isinstance(item, Span) and bool(item.emphasis & TRANSNOTE)
        if isinstance(item, Span) and not item.text:
            out.append(item)
            continue
        if noted and not inside:
            out.append(Span(NOTE_OPEN, item.emphasis & ~TRANSNOTE & ~NO_CONTRACT))
        elif inside and not noted:
            out.append(Span(NOTE_CLOSE, out[-1].emphasis if isinstance(out[-1], Span) else 0))
        inside = noted
        out.append(Span(item.text, item.emphasis & ~TRANSNOTE) if noted else item)
    if inside:
        out.append(Span(NOTE_CLOSE, out[-1].emphasis & ~NO_CONTRACT))
    return out


def _full_width(row) -> bool:
    """A row that is one cell across the whole table (a title, a section row, a footer)."""
    return bool(row) and row[0] is not None and all(e is not None and e[0] is row[0][0]
                                                    for e in row)


def plan(document: Document, contracted: bool = True) -> Plan:
    """The units and lines of ``document``; ``contracted``: translated in grade 2 (the grade 1
    indicators that level indicators need depend on it)."""
    builder = _Builder(heading_tiers(_levels(document.blocks)), contracted)
    builder.blocks(document.blocks)
    builder.head_note()
    return Plan(builder.units, builder.lines, builder.typeforms, builder.transcribed)
