"""Documents in, braille documents out.

The contract the pipeline uses, in two phases so that the lines of many documents can be
translated in one engine batch:

    prepared = prepare(data, filename, options)       # read and parse; lines to translate
    translations = engine.translate_lines(prepared.lines, prepared.typeforms)
    rendered = finish(prepared, translations)         # lay out as unicode / brf / pef

``render`` does both for one document. Problems a user can cause raise :class:`DocumentError`
with a message that says what is wrong and what to do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ..translate.engine import Engine, LineTranslation

FORMATS = ("unicode", "brf")
EXTENSIONS = {"unicode": "txt", "brf": "brf", "pef": "pef"}


class DocumentError(ValueError):
    """A document cannot be converted; the message says why and what to do."""


@dataclass(frozen=True)
class RenderOptions:
    format: str = "brf"
    cells_per_line: int = 40
    lines_per_page: int = 25
    duplex: bool = False
    volume_sheets: int = 50
    title: str | None = None


@dataclass
class Prepared:
    filename: str
    options: RenderOptions
    lines: list[str]
    typeforms: list[list[int] | None] | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    content: bytes
    extension: str
    chars: int
    cells: int
    chars_by_engine: Counter
    warnings: list[str] = field(default_factory=list)


def decode_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Text of a plain-text document: UTF-8, UTF-16 with a BOM, else cp1252 with a warning."""
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{filename}: looks like a binary file (NUL bytes); "
                            "submit text, Markdown, HTML, DOCX or EPUB documents")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise DocumentError(f"{filename}: broken UTF-16 text; re-save it as UTF-8") from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), [f"{filename}: not UTF-8; read as cp1252 (Windows-1252)"]
    except UnicodeDecodeError:
        raise DocumentError(f"{filename}: text is neither UTF-8 nor cp1252; "
                            "re-save it as UTF-8") from None


def prepare(data: bytes, filename: str, options: RenderOptions) -> Prepared:
    if options.format not in FORMATS:
        raise DocumentError(f"unknown output format {options.format!r}: "
                            f"choose one of {', '.join(FORMATS)}")
    text, warnings = decode_text(data, filename)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Prepared(filename, options, lines, None, warnings)


# North American ASCII braille: the character for each 6-dot pattern 0..63 (bit k = dot k+1).
_NABCC = " A1B'K2L@CIF/MSP\"E3H9O6R^DJG>NTQ,*5<-U8V.%[$+X!&;:4\\0Z7(_?W]#Y)="
_TO_BRF = {0x2800 + i: _NABCC[i] for i in range(64)}


def to_brf(braille: str) -> str:
    return braille.translate(_TO_BRF)


def _wrap(line: str, width: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in line.split("\u2800"):
        while len(word) > width:  # a braille word longer than a line is the only one broken
            if current:
                out.append(current)
                current = ""
            out.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += "\u2800" + word
        else:
            out.append(current)
            current = word
    out.append(current)
    return out


def finish(prepared: Prepared, translations: Sequence[LineTranslation]) -> Rendered:
    options = prepared.options
    counts: Counter = Counter()
    for t in translations:
        counts.update(t.chars_by_engine)
    braille_lines = [t.braille for t in translations]
    cells = sum(len(b) for b in braille_lines)
    chars = sum(len(line) for line in prepared.lines)
    if options.format == "unicode":
        body = "".join(b + "\n" for b in braille_lines)
        return Rendered(body.encode("utf-8"), EXTENSIONS["unicode"], chars, cells, counts,
                        prepared.warnings)
    rows: list[str] = []
    for b in braille_lines:
        rows.extend(_wrap(b, options.cells_per_line))
    pages = [rows[i:i + options.lines_per_page]
             for i in range(0, len(rows), options.lines_per_page)] or [[]]
    text = "\f".join("".join(to_brf(r) + "\r\n" for r in page) for page in pages)
    return Rendered(text.encode("ascii"), EXTENSIONS["brf"], chars, cells, counts,
                    prepared.warnings)


def render(data: bytes, filename: str, engine: Engine, options: RenderOptions) -> Rendered:
    prepared = prepare(data, filename, options)
    return finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
