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

# Emphasis flags. Their values are liblouis typeform constants (emph_1 italic, emph_2 underline,
# emph_3 bold), so a span's flags can be written straight into a typeform array.
PLAIN = 0
ITALIC = 1
UNDERLINE = 2
BOLD = 4
EMPHASIS_MASK = ITALIC | UNDERLINE | BOLD


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
class Table:
    rows: list[list[list[Inline]]]  # rows of cells of inline content
    header_rows: int = 0
    caption: list[Inline] = field(default_factory=list)


@dataclass
class PageBreak:
    """A print page begins between blocks; ``number`` is its printed label."""
    number: str


Block = Union[Heading, Paragraph, ListItem, BlockQuote, Table, PageBreak]


@dataclass
class Document:
    blocks: list[Block]
    title: str | None = None
    language: str = "en"
    warnings: list[str] = field(default_factory=list)


# --- normalising inline content -------------------------------------------------------------

_SPACE = re.compile(r"[\s\u00a0\u2007\u202f]+")
# soft hyphen, zero-width space/joiners, BOM, and C0/C1 controls other than whitespace
_DROP = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """NFC text with invisible characters removed and every run of white space one space."""
    text = unicodedata.normalize("NFC", _DROP.sub("", text))
    return _SPACE.sub(" ", text)


def normalise_inlines(content: list[Inline]) -> list[Inline]:
    """Merge adjacent spans of equal emphasis, collapse white space, trim around line breaks.

    Page markers are transparent to spacing: "word<page 12> word" keeps one space.
    """
    merged: list[Inline] = []
    parts: list[str] = []  # texts of the span being merged (joined once: linear time)
    flags = -1
    for item in content:
        if isinstance(item, Span):
            emph = item.emphasis & EMPHASIS_MASK
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
            text = clean_text(item.text)
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
                    names = "+".join(n for n, f in (("i", ITALIC), ("u", UNDERLINE), ("b", BOLD))
                                     if item.emphasis & f)
                    parts.append(f"[{names}:{item.text}]")
                else:
                    parts.append(item.text)
            elif isinstance(item, LineBreak):
                parts.append("<br>")
            else:
                parts.append(f"<page {item.number}>")
        return "".join(parts)

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
                    lines.append(f"{indent}  | " + " | ".join(inl(c) for c in row))
            elif isinstance(b, PageBreak):
                lines.append(f"{indent}page break {b.number}")
    if document.title:
        lines.append(f"title: {document.title}")
    walk(document.blocks, "")
    return "\n".join(lines) + "\n"
