"""The block model: what every reader produces and every writer consumes.

A document is a flat list of blocks. Block-level structure that braille formatting depends on is
explicit (heading level, list nesting level, block quotes, tables, print page breaks); inline
content is a list of :class:`Span` (text with emphasis flags), :class:`LineBreak` (a forced new
line inside a block) and :class:`PageMarker` (a print page starts here, inside a block).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Union

# Span flags. Those in TYPEFORM_MASK are liblouis typeform constants, written straight into a
# typeform array: the UEB tables' emphasis classes in order (italic, underline, bold, script,
# transnote, trans1 ...) are the bits 1, 2, 4, 8, 16, 32 ..., and no_contract is liblouis's
# uncontracted span.
PLAIN = 0
ITALIC = 1
UNDERLINE = 2
BOLD = 4
TRANSNOTE = 16  # a transcriber's note: liblouis writes ⠈⠨⠣ … ⠈⠨⠜ around it (UEB 3.27)
STRIKE = 32  # crossed-out text: the first transcriber-defined typeform, ⠈⠼ (UEB 9.5)
NO_CONTRACT = 4096  # uncontracted (computer code, transliterated foreign text)
EMPHASIS_MASK = ITALIC | UNDERLINE | BOLD
TYPEFORM_MASK = EMPHASIS_MASK | TRANSNOTE | STRIKE | NO_CONTRACT
# Not typeforms: the flow turns these into level indicators in the text (formats.levels).
SUPERSCRIPT = 1 << 16
SUBSCRIPT = 1 << 17
LEVEL_MASK = SUPERSCRIPT | SUBSCRIPT
SPAN_MASK = TYPEFORM_MASK | LEVEL_MASK


@dataclass(frozen=True)
class Span:
    text: str
    emphasis: int = PLAIN


@dataclass(frozen=True)
class LineBreak:
    """A forced line break inside a block (HTML <br>, a DOCX break, a hard break in Markdown)."""


@dataclass(frozen=True)
class PageMarker:
    """A print page begins here, in the middle of a block; ``number`` is its printed label."""
    number: str


Inline = Union[Span, LineBreak, PageMarker]


@dataclass
class Heading:
    level: int  # 0 for a document title, 1-6 for HTML/Markdown/DOCX heading levels
    content: list[Inline]


@dataclass
class Paragraph:
    content: list[Inline]


@dataclass
class ListItem:
    level: int  # nesting level, 0 for the outermost list
    content: list[Inline]
    marker: str = ""  # "1.", "a." for ordered lists; "" for bullets
    continuation: bool = False  # a further paragraph of the item above at this level


@dataclass
class BlockQuote:
    blocks: list["Block"]


@dataclass
class Cell:
    """A table cell: its content, how many columns and rows it spans, and whether print marks
    it as a heading (HTML ``<th>``)."""
    content: list[Inline]
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass
class Table:
    rows: list[list[Union[Cell, list[Inline]]]]  # rows of cells (a bare list: a 1x1 cell)
    header_rows: int = 0
    caption: list[Inline] = field(default_factory=list)


MAX_SPAN = 1000  # a colspan or rowspan larger than this is taken as this (hostile input)


def table_grid(table: Table) -> list[list[tuple[Cell, bool] | None]]:
    """The table as a rectangle: every position holds (the cell that covers it, whether the cell
    starts there), or None where print has no cell. Column and row spans are laid out as HTML
    does: a cell takes the first free position of its row."""
    grid: list[list[tuple[Cell, bool] | None]] = []
    for r, row in enumerate(table.rows):
        while len(grid) <= r:
            grid.append([])
        c = 0
        for item in row:
            cell = item if isinstance(item, Cell) else Cell(list(item))
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            span_c = max(1, min(cell.colspan, MAX_SPAN))
            span_r = max(1, min(cell.rowspan, MAX_SPAN, len(table.rows) - r))
            for dr in range(span_r):
                while len(grid) <= r + dr:
                    grid.append([])
                target = grid[r + dr]
                while len(target) < c + span_c:
                    target.append(None)
                for dc in range(span_c):
                    target[c + dc] = (cell, dr == 0 and dc == 0)
            c += span_c
    width = max((len(row) for row in grid), default=0)
    for row in grid:
        row.extend([None] * (width - len(row)))
    return grid


@dataclass
class Code:
    """Preformatted text (a program listing, a Markdown code block, HTML ``<pre>``): its lines
    exactly as in print, indentation and inner spacing included."""
    lines: list[str]
    language: str = ""


@dataclass
class Rule:
    """A horizontal rule between sections (HTML ``<hr>``, Markdown ``---``)."""


@dataclass
class PageBreak:
    """A print page begins between blocks; ``number`` is its printed label."""
    number: str


Block = Union[Heading, Paragraph, ListItem, BlockQuote, Table, Code, Rule, PageBreak]


@dataclass
class Document:
    blocks: list[Block]
    title: str | None = None
    language: str = "en"
    warnings: list[str] = field(default_factory=list)


# --- normalising inline content -------------------------------------------------------------

_SPACE = re.compile(r"[\s\u00a0\u2007\u202f]+")
# soft hyphen, zero-width space and non-joiner, BOM, and C0/C1 controls other than whitespace;
# the zero-width joiner stays, as emoji sequences need it (formats.charset leaves it out after)
_DROP = re.compile("[\u00ad\u200b\u200c\u2060\ufeff\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str, compose: bool = True) -> str:
    """NFC text (unless not ``compose``) with invisible characters removed and every run of
    white space one space."""
    text = _DROP.sub("", text)
    if compose:
        text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", text)


def normalise_inlines(content: list[Inline], compose: bool = True) -> list[Inline]:
    """Merge adjacent spans of equal emphasis, collapse white space, trim around line breaks;
    ``compose``: characters to NFC (not after formats.charset has decomposed some on purpose).

    Page markers are transparent to spacing: "word<page 12> word" keeps one space.
    """
    merged: list[Inline] = []
    parts: list[str] = []  # texts of the span being merged (joined once: linear time)
    flags = -1
    for item in content:
        if isinstance(item, Span):
            emph = item.emphasis & SPAN_MASK
            if parts and emph == flags:
                parts.append(item.text)
                continue
            if parts:
                merged.append(Span("".join(parts), flags))
            parts, flags = [item.text], emph
        else:
            if parts:
                merged.append(Span("".join(parts), flags))
                parts = []
            merged.append(item)
    if parts:
        merged.append(Span("".join(parts), flags))
    result: list[Inline] = []
    at_start = True
    last_space = False
    for item in merged:
        if isinstance(item, Span):
            text = clean_text(item.text, compose)
            if at_start or last_space:
                text = text.lstrip(" ")
            if text:
                result.append(Span(text, item.emphasis))
                at_start = False
                last_space = text.endswith(" ")
        elif isinstance(item, LineBreak):
            _rstrip_last(result)
            result.append(item)
            at_start = True
            last_space = False
        else:
            result.append(item)
    _rstrip_last(result)
    return [r for r in result if not (isinstance(r, Span) and not r.text)]


def _rstrip_last(result: list[Inline]) -> None:
    # strip trailing spaces of the spans before a break (a span may be all spaces)
    i = len(result) - 1
    while i >= 0 and isinstance(result[i], (Span, PageMarker)):
        if isinstance(result[i], PageMarker):
            i -= 1
            continue
        text = result[i].text.rstrip(" ")
        result[i] = Span(text, result[i].emphasis)
        if text:
            break
        i -= 1


def plain_text(content: list[Inline]) -> str:
    """The text of inline content, line breaks as spaces, page markers dropped."""
    parts = []
    for item in content:
        if isinstance(item, Span):
            parts.append(item.text)
        elif isinstance(item, LineBreak):
            parts.append(" ")
    return clean_text("".join(parts)).strip()


def has_text(content: list[Inline]) -> bool:
    return any(isinstance(i, Span) and i.text.strip() for i in content)


def dump(document: Document) -> str:
    """A readable, stable text form of a document's blocks (used for golden files)."""
    lines: list[str] = []

    def inl(content: list[Inline]) -> str:
        parts = []
        for item in content:
            if isinstance(item, Span):
                if item.emphasis:
                    names = "+".join(n for n, f in (
                        ("i", ITALIC), ("u", UNDERLINE), ("b", BOLD), ("tn", TRANSNOTE),
                        ("del", STRIKE), ("code", NO_CONTRACT), ("sup", SUPERSCRIPT),
                        ("sub", SUBSCRIPT)) if item.emphasis & f)
                    parts.append(f"[{names}:{item.text}]")
                else:
                    parts.append(item.text)
            elif isinstance(item, LineBreak):
                parts.append("<br>")
            else:
                parts.append(f"<page {item.number}>")
        return "".join(parts)

    def _cell(item) -> str:
        if not isinstance(item, Cell):
            return inl(item)
        marks = "".join([f"<{item.colspan}>" if item.colspan > 1 else "",
                         f"^{item.rowspan}" if item.rowspan > 1 else "",
                         "#" if item.header else ""])
        return marks + inl(item.content)

    def walk(blocks: list[Block], indent: str) -> None:
        for b in blocks:
            if isinstance(b, Heading):
                lines.append(f"{indent}heading {b.level}: {inl(b.content)}")
            elif isinstance(b, Paragraph):
                lines.append(f"{indent}paragraph: {inl(b.content)}")
            elif isinstance(b, ListItem):
                more = " (continued)" if b.continuation else ""
                lines.append(f"{indent}item {b.level} {b.marker!r}{more}: {inl(b.content)}")
            elif isinstance(b, BlockQuote):
                lines.append(f"{indent}quote:")
                walk(b.blocks, indent + "  ")
            elif isinstance(b, Table):
                lines.append(f"{indent}table (header rows {b.header_rows}): {inl(b.caption)}")
                for row in b.rows:
                    lines.append(f"{indent}  | " + " | ".join(_cell(c) for c in row))
            elif isinstance(b, Code):
                lines.append(f"{indent}code {b.language!r}:")
                lines.extend(f"{indent}  |{line}" for line in b.lines)
            elif isinstance(b, Rule):
                lines.append(f"{indent}rule")
            elif isinstance(b, PageBreak):
                lines.append(f"{indent}page break {b.number}")
    if document.title:
        lines.append(f"title: {document.title}")
    walk(document.blocks, "")
    return "\n".join(lines) + "\n"
