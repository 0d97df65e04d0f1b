"""Word documents (.docx) via python-docx.

Body order is kept (paragraphs and tables interleaved, content controls opened). Paragraph styles
"Title" and "Heading 1"–"Heading 6" (or styles based on them) are headings; list paragraphs (a
numbering reference, or the List Bullet/Number/Paragraph styles) are list items at their
numbering level, numbered from the numbering definitions. Direct run formatting and character
styles give bold, italic and underline; formatting that a paragraph style (a heading style, say)
applies to the whole paragraph is styling, not emphasis, and is not carried. Runs inside hyperlinks, tracked
insertions, smart tags and content controls are read; deleted revisions are not. Text boxes,
footnotes, headers and footers are not read.

python-docx opens the package itself, so it is given a copy of the archive whose members were
read under the zip-bomb defences (:class:`~braillejobs.formats.safety.Archive`) and stored
uncompressed: it reads no byte that was not checked.
"""

from __future__ import annotations

import io
import re

from ..blocks import (BOLD, ITALIC, UNDERLINE, Document, Heading, Inline, LineBreak, ListItem,
                      Paragraph, Span, Table, normalise_inlines, plain_text)
from ..errors import DocumentError
from ..safety import Archive
from .html import _ordered_marker

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _heading_level(style) -> int | None:
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip().lower()
        if name == "title":
            return 0
        m = re.fullmatch(r"heading\s*([1-9])", name)
        if m:
            return min(int(m.group(1)), 6)
        style = style.base_style
        seen += 1
    return None


def _style_list_level(style) -> int | None:
    name = (getattr(style, "name", "") or "").strip().lower()
    m = re.fullmatch(r"list (?:bullet|number|continue|paragraph)(?:\s*([2-9]))?", name)
    if m:
        return int(m.group(1)) - 1 if m.group(1) else 0
    return None


def _style_numbering(style) -> tuple[str, int | None] | None:
    """(numId, ilvl) that a paragraph style (or one it is based on) applies, if any."""
    seen = 0
    while style is not None and seen < 10:
        ppr = style.element.pPr
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is not None and num_pr.numId is not None:
            if num_pr.numId.val == 0:
                return None
            ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else None
            return str(num_pr.numId.val), (int(ilvl) if ilvl is not None else None)
        style = style.base_style
        seen += 1
    return None


class _Numbering:
    """Numbering formats from numbering.xml and running counters per list and level."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, int], tuple[str, str]] = {}
        self.starts: dict[tuple[str, int], int] = {}  # (abstractNumId, level) → first number
        self.first: dict[tuple[str, int], int] = {}  # (numId, level) → first number
        self.counters: dict[str, list[int]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for an in numbering.findall(f"{W}abstractNum"):
            levels = {}
            for lvl in an.findall(f"{W}lvl"):
                fmt = lvl.find(f"{W}numFmt")
                text = lvl.find(f"{W}lvlText")
                start = lvl.find(f"{W}start")
                ilvl = int(lvl.get(f"{W}ilvl", "0"))
                levels[ilvl] = (fmt.get(f"{W}val") if fmt is not None else "decimal",
                                text.get(f"{W}val") if text is not None else "%1.")
                if start is not None and (start.get(f"{W}val") or "").isdigit():
                    self.starts[(an.get(f"{W}abstractNumId"), ilvl)] = int(start.get(f"{W}val"))
            abstract[an.get(f"{W}abstractNumId")] = levels
        for num in numbering.findall(f"{W}num"):
            ref = num.find(f"{W}abstractNumId")
            if ref is not None:
                for level, fmt in abstract.get(ref.get(f"{W}val"), {}).items():
                    self.formats[(num.get(f"{W}numId"), level)] = fmt
                    start = self.starts.get((ref.get(f"{W}val"), level))
                    if start is not None:
                        self.first[(num.get(f"{W}numId"), level)] = start

    def marker(self, num_id: str, level: int) -> str:
        fmt, text = self.formats.get((num_id, level), ("bullet", ""))
        counts = self.counters.setdefault(num_id, [0] * 10)
        level = min(level, 9)
        if counts[level] == 0:
            counts[level] = self.first.get((num_id, level), 1)
        else:
            counts[level] += 1
        for deeper in range(level + 1, 10):
            counts[deeper] = 0
        if fmt in ("bullet", "none", ""):
            return ""

        def fmt_one(n: int, f: str) -> str:
            kind = {"lowerLetter": "a", "upperLetter": "A", "lowerRoman": "i",
                    "upperRoman": "I"}.get(f, "1")
            return _ordered_marker(n, kind)[:-1]

        def repl(m: re.Match) -> str:
            lv = int(m.group(1)) - 1
            f = fmt if lv == level else self.formats.get((num_id, lv), ("decimal", ""))[0]
            return fmt_one(max(counts[lv], 1), f)
        return re.sub(r"%([1-9])", repl, text).strip() or f"{counts[level]}."


def _run_emphasis(run) -> int:
    flags = 0
    style = run.style
    chain = []
    while style is not None and len(chain) < 10:
        chain.append(style)
        style = style.base_style

    def effective(attr: str):
        value = getattr(run.font, attr)
        if value is not None:
            return value
        for s in chain:
            value = getattr(s.font, attr)
            if value is not None:
                return value
        return None
    if effective("italic"):
        flags |= ITALIC
    if effective("bold"):
        flags |= BOLD
    u = effective("underline")
    if u is not None and u is not False and getattr(u, "value", 1) != 0:
        flags |= UNDERLINE
    return flags


# runs under these elements are not part of the paragraph's text: deleted revisions, the old
# place of moved text, text boxes (their own paragraphs) and the fallback copy of drawings
_SKIP_RUNS_UNDER = {f"{W}del", f"{W}moveFrom", f"{W}txbxContent",
                    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"}


def _runs(paragraph):
    """The paragraph's runs in order, including those inside hyperlinks, tracked insertions,
    smart tags, fields and inline content controls."""
    from docx.text.run import Run

    p = paragraph._p
    for r in p.iter(f"{W}r"):
        parent = r.getparent()
        skip = False
        while parent is not None and parent is not p:
            if parent.tag in _SKIP_RUNS_UNDER:
                skip = True
                break
            parent = parent.getparent()
        if not skip:
            yield Run(r, paragraph)


def _runs_inline(paragraph) -> list[Inline]:
    out: list[Inline] = []
    for run in _runs(paragraph):
        flags = _run_emphasis(run)
        for child in run._r:
            tag = child.tag
            if tag == f"{W}t":
                out.append(Span(child.text or "", flags))
            elif tag in (f"{W}tab", f"{W}ptab"):
                out.append(Span(" ", flags))
            elif tag == f"{W}br":
                if child.get(f"{W}type") in (None, "textWrapping"):
                    out.append(LineBreak())
            elif tag == f"{W}cr":
                out.append(LineBreak())
            elif tag == f"{W}noBreakHyphen":
                out.append(Span("-", flags))
    return normalise_inlines(out)


def read_docx(data: bytes, filename: str) -> Document:
    package = Archive(data, filename, "DOCX").repacked()  # container and zip-bomb checks first
    try:
        import docx  # python-docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - a dependency of the package
        raise DocumentError(f"{filename}: DOCX support needs python-docx installed") from None
    try:
        document = docx.Document(io.BytesIO(package))
    except PackageNotFoundError:
        raise DocumentError(f"{filename}: not a Word document (no document part in the package); "
                            "re-save it from Word as .docx") from None
    except Exception as exc:  # python-docx raises KeyError, XMLSyntaxError, ValueError, ...
        raise DocumentError(f"{filename}: the Word document is damaged and cannot be read "
                            f"({type(exc).__name__}: {exc}); re-save it from Word as .docx "
                            "and submit it again") from None
    body = document.element.body
    if body is None:
        raise DocumentError(f"{filename}: the Word document has no body (word/document.xml "
                            "lacks <w:body>); re-save it from Word as .docx")
    doc = Document([])
    try:
        title = document.core_properties.title
    except Exception:  # a broken core-properties part must not lose the document
        title = None
    doc.title = (title or "").strip() or None
    numbering = _Numbering(document)
    try:
        _read_body(document, body, doc, numbering)
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"{filename}: the Word document's content is damaged "
                            f"({type(exc).__name__}: {exc}); re-save it from Word as .docx") \
            from None
    if doc.title is None:
        first = next((b for b in doc.blocks if isinstance(b, Heading)), None)
        doc.title = plain_text(first.content) if first else None
    return doc


def _read_body(document, container, doc: Document, numbering: _Numbering) -> None:
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph as DocxParagraph

    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{W}p":
            _paragraph(DocxParagraph(child, document.part), doc, numbering)
        elif tag == f"{W}tbl":
            _table(DocxTable(child, document.part), doc)
        elif tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                _read_body(document, content, doc, numbering)


def _paragraph(p, doc: Document, numbering: _Numbering) -> None:
    style = p.style
    level = _heading_level(style)
    content = _runs_inline(p)
    num_pr = p._p.pPr.numPr if p._p.pPr is not None else None
    if level is not None:
        if content:
            doc.blocks.append(Heading(level, content))
        return
    list_level = _style_list_level(style)
    marker = ""
    if num_pr is not None and num_pr.numId is not None and num_pr.numId.val != 0:
        ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        list_level = min(int(ilvl), 8)
        marker = numbering.marker(str(num_pr.numId.val), list_level)
    elif num_pr is None:
        style_num = _style_numbering(style)
        if style_num is not None:
            num_id, ilvl = style_num
            if ilvl is None:
                ilvl = list_level or 0
            list_level = min(ilvl, 8)
            marker = numbering.marker(num_id, list_level)
    if not content:
        return
    if list_level is not None:
        doc.blocks.append(ListItem(list_level, content, marker))
    else:
        doc.blocks.append(Paragraph(content))


def _table(table, doc: Document) -> None:
    rows: list[list[list[Inline]]] = []
    header_rows = 0
    for r, row in enumerate(table.rows):
        seen = set()
        cells: list[list[Inline]] = []
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                continue
            seen.add(id(cell._tc))
            parts: list[Inline] = []
            for para in cell.paragraphs:
                inl = _runs_inline(para)
                if inl:
                    if parts:
                        parts.append(Span(" "))
                    parts.extend(inl)
            cells.append(normalise_inlines(parts))
        trpr = row._tr.trPr
        marked = trpr is not None and trpr.find(f"{W}tblHeader") is not None
        all_bold = all(c and all(isinstance(i, Span) and i.emphasis & BOLD for i in c)
                       for c in cells)
        if r == header_rows and (marked or (r == 0 and all_bold and len(table.rows) > 1)):
            header_rows += 1
            cells = [[Span(i.text) if isinstance(i, Span) else i for i in c] for c in cells]
        rows.append(cells)
    if rows:
        doc.blocks.append(Table(rows, header_rows))
