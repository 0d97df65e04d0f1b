"""Documents in, braille documents out.

The contract the pipeline uses, in two phases so that the lines of many documents can be
translated in one engine batch:

    prepared = prepare(data, filename, options)       # read and parse; lines to translate
    translations = engine.translate_lines(prepared.lines, prepared.typeforms)
    rendered = finish(prepared, translations)         # lay out as unicode / brf / pef

``render`` does both for one document. Problems a user can cause raise :class:`DocumentError`
with a message that says what is wrong and what to do.

Modules: ``blocks`` (the document model), ``readers`` (one per input format), ``emphasis``
(emphasis spans → liblouis typeforms), ``flow`` (blocks → lines to translate and a layout plan,
per BANA Braille Formats 2016), ``layout`` (lines and pages), ``unicode``, ``brf`` and ``pef``
(writers), ``safety`` (zip-bomb and XML defences).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

from ..translate.engine import Engine, LineTranslation, count_engines
from .brf import to_brf, write_brf
from .errors import DocumentError
from .flow import Unit, plan
from .divide import dividers_for
from .layout import paginate
from .readers import read_document
from .readers.txt import decode_text

FORMATS = ("unicode", "brf", "pef")
EXTENSIONS = {"unicode": "txt", "brf": "brf", "pef": "pef"}
_NOT_BRAILLE = re.compile("[^\u2800-\u283F]")  # six-dot cells only: BRF and PEF carry no other
MIN_CELLS, MAX_CELLS = 10, 100
MIN_LINES, MAX_LINES = 3, 100

__all__ = ["FORMATS", "EXTENSIONS", "DocumentError", "RenderOptions", "Prepared", "Rendered",
           "prepare", "finish", "render", "to_brf", "decode_text", "check_options"]


@dataclass(frozen=True)
class RenderOptions:
    format: str = "brf"
    cells_per_line: int = 40
    lines_per_page: int = 25
    duplex: bool = False
    volume_sheets: int = 50
    title: str | None = None
    date: str | None = None  # PEF dc:date (YYYY-MM-DD); today when None
    table: str = "en-ueb-g2.ctb"  # the braille the engine writes (grade 2 unless g1)

    @classmethod
    def of(cls, job_options: Mapping[str, Any]) -> "RenderOptions":
        """The layout options among a job's options (jobs.JobOptions, or as stored)."""
        return cls(**{f.name: job_options[f.name] for f in fields(cls) if f.name in job_options})


@dataclass
class Prepared:
    filename: str
    options: RenderOptions
    lines: list[str]
    typeforms: list[list[int] | None] | None = None
    warnings: list[str] = field(default_factory=list)
    units: list[Unit] | None = None  # the layout plan; None: one paragraph per line
    title: str | None = None
    language: str = "en"
    identifier: str = ""
    transcribed: Counter = field(default_factory=Counter)  # characters without a sign, by how


@dataclass
class Rendered:
    content: bytes
    extension: str
    chars: int
    cells: int
    chars_by_engine: Counter
    warnings: list[str] = field(default_factory=list)
    transcribed: Counter = field(default_factory=Counter)  # characters without a sign, by how


def check_options(options: RenderOptions) -> None:
    """Raise DocumentError for options no braille page can be laid out with."""
    if options.format not in FORMATS:
        raise DocumentError(f"unknown output format {options.format!r}: "
                            f"choose one of {', '.join(FORMATS)}")
    if not MIN_CELLS <= options.cells_per_line <= MAX_CELLS:
        raise DocumentError(f"cells per line must be between {MIN_CELLS} and {MAX_CELLS} "
                            f"(got {options.cells_per_line}); 40 is the usual embosser width")
    if not MIN_LINES <= options.lines_per_page <= MAX_LINES:
        raise DocumentError(f"lines per page must be between {MIN_LINES} and {MAX_LINES} "
                            f"(got {options.lines_per_page}); 25 is the usual page length")
    if options.volume_sheets < 1:
        raise DocumentError(f"sheets per volume must be at least 1 (got {options.volume_sheets})")


def prepare(data: bytes, filename: str, options: RenderOptions) -> Prepared:
    check_options(options)
    document = read_document(data, filename)
    layout = plan(document, contracted="-g1" not in options.table)
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    typeforms = layout.typeforms if any(t is not None for t in layout.typeforms) else None
    warnings = list(document.warnings)
    transcribed = Counter()
    if layout.transcribed is not None:
        note = layout.transcribed.warning(filename)
        if note:
            warnings.append(note)
        transcribed = layout.transcribed.kinds()
    return Prepared(filename, options, layout.lines, typeforms, warnings,
                    layout.units, options.title or document.title or stem,
                    document.language or "en",
                    "braillejobs:sha256:" + hashlib.sha256(data).hexdigest(), transcribed)


def finish(prepared: Prepared, translations: Sequence[LineTranslation],
           tables: str | None = None) -> Rendered:
    """Lay out the translated lines. ``tables``: the liblouis table list the engine honoured
    (a corrections table before the base one), for the lines whose long words are divided on
    liblouis's signs (default: the options' table)."""
    options = prepared.options
    if len(translations) != len(prepared.lines):
        raise ValueError(f"{prepared.filename}: {len(translations)} translations for "
                         f"{len(prepared.lines)} lines")
    counts = count_engines(translations)
    braille = [t.braille for t in translations]
    cells = sum(len(b) for b in braille)
    chars = sum(len(line) for line in prepared.lines)
    units = prepared.units
    if units is None:
        units = [Unit("paragraph", i, 2, 0) for i in range(len(braille))]
    warnings = list(prepared.warnings)
    stray = sum(len(_NOT_BRAILLE.findall(b)) for b in braille)
    if stray:  # an engine fault: keep the layout and every output format well-formed
        warnings.append(f"{prepared.filename}: {stray} characters of the translation were not "
                        "braille and were left blank")
        braille = [_NOT_BRAILLE.sub("\u2800", b) for b in braille]
    if options.format == "unicode":
        from .unicode import write_unicode
        text = write_unicode(units, braille, options.cells_per_line)
        return Rendered(text.encode("utf-8"), EXTENSIONS["unicode"], chars, cells, counts,
                        warnings, prepared.transcribed)
    code = {u.line for u in units if u.preformatted and u.line is not None}
    dividers, replaced = dividers_for(prepared.lines, prepared.typeforms, braille,
                                      _longest(units, options.cells_per_line),
                                      tables or options.table,
                                      code)
    if replaced:  # lines the layout took from liblouis to divide a long token on known signs
        moved = sum(len(prepared.lines[i]) for i in replaced)
        for i in replaced:
            counts.subtract(translations[i].chars_by_engine)
        counts["louis"] += moved
        counts = +counts
    pages = paginate(units, braille, options.cells_per_line, options.lines_per_page, dividers)
    if options.format == "brf":
        return Rendered(write_brf(pages), EXTENSIONS["brf"], chars, cells, counts, warnings,
                        prepared.transcribed)
    from .pef import write_pef
    content = write_pef(pages, cols=options.cells_per_line, rows=options.lines_per_page,
                        duplex=options.duplex, volume_sheets=options.volume_sheets,
                        identifier=prepared.identifier or "braillejobs:unknown",
                        title=prepared.title or prepared.filename,
                        language=prepared.language, date=options.date)
    return Rendered(content, EXTENSIONS["pef"], chars, cells, counts, warnings,
                    prepared.transcribed)


def _longest(units: Sequence[Unit], width: int) -> dict[int, int]:
    """For each line, the longest token the layout can place on one line whatever its row (a
    longer one may have to be divided)."""
    cap = width // 2
    out: dict[int, int] = {}
    for unit in units:
        if unit.line is not None:
            room = width - max(min(unit.first, cap), min(unit.runover, cap))
            out[unit.line] = min(room, width - 6) if unit.centred else room
    return out


def render(data: bytes, filename: str, engine: Engine, options: RenderOptions) -> Rendered:
    prepared = prepare(data, filename, options)
    return finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
