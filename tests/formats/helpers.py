"""Helpers for the formats tests: layout through the real engine, readable views of pages."""

from __future__ import annotations

from pathlib import Path

from braillejobs.formats.blocks import Document
from braillejobs.formats.brf import to_brf
from braillejobs.formats.flow import plan
from braillejobs.formats.layout import paginate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def translate(engine, lines, typeforms=None) -> list[str]:
    return [t.braille for t in engine.translate_lines(lines, typeforms)]


def lay_out(engine, blocks, width: int = 40, length: int = 25):
    """Pages for a list of blocks, translated with ``engine``."""
    p = plan(Document(list(blocks)))
    return paginate(p.units, translate(engine, p.lines, p.typeforms), width, length)


def ascii_rows(page) -> list[str]:
    """A page's rows as ASCII braille, padded to nothing (trailing blanks removed)."""
    return [to_brf(r) for r in page.rows]


def brf_pages(content: bytes) -> list[list[str]]:
    """A BRF file as pages of lines (CRLF and form feeds removed)."""
    text = content.decode("ascii")
    pages = text.split("\f")
    out = []
    for page in pages:
        assert page.endswith("\r\n"), "every line ends in CRLF"
        out.append(page[:-2].split("\r\n"))
    return out
