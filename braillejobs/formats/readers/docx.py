"""Word documents (.docx) via python-docx.

Body order is kept (paragraphs and tables interleaved, content controls opened). Paragraph styles
"Title" and "Heading 1"–"Heading 6" (or styles based on them) are headings; list paragraphs (a
numbering reference, or the List Bullet/Number/Paragraph styles) are list items at their
numbering level, numbered from the numbering definitions. Direct run formatting and character
styles give bold, italic, underline, strike-through, superscript and subscript, and code
character styles ("HTML Code", "Verbatim Char") uncontracted text; formatting that a paragraph
style (a heading style, say) applies to the whole paragraph is styling, not emphasis, and is not
carried. Consecutive paragraphs in a code style ("HTML Preformatted", "Source Code") are one
:class:`Code` block. Pictures are transcriber's notes of their alt text (a picture without one,
alone in its paragraph, is noted as an image); an empty paragraph that is only a horizontal line
is a :class:`Rule`. A hard page break ends the paragraph there (print starts a new page; the
braille has no print page number to give it). Table cells keep their column spans (gridSpan) and
vertical merges (vMerge) as row spans. Runs inside hyperlinks, tracked insertions, smart tags and
content controls are read; deleted revisions are not. Text boxes, footnotes, headers and footers
are not read.

python-docx opens the package itself, so it is given a copy of the archive whose members were
read under the zip-bomb defences (:class:`~braillejobs.formats.safety.Archive`) and stored
uncompressed: it reads no byte that was not checked.
"""

from __future__ import annotations

import io
import re

from ..blocks import (BOLD, EMPHASIS_MASK, ITALIC, MAX_SPAN, NO_CONTRACT, STRIKE, SUBSCRIPT,
                      SUPERSCRIPT, TRANSNOTE, UNDERLINE, Cell, Code, Document, Heading, Inline,
                      LineBreak, ListItem, Paragraph, Rule, Span, Table, normalise_inlines,
                      plain_text)
from ..errors import DocumentError
from ..safety import Archive
from .html import close_up_notes, flat_inlines, image_note, ordered_marker

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
PIC = "{http://schemas.openxmlformats.org/drawingml/2006/picture}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
V = "{urn:schemas-microsoft-com:vml}"
O = "{urn:schemas-microsoft-com:office:office}"

# styles Word and converters (pandoc, LibreOffice) give program code
_CODE_PARAGRAPH_STYLES = {"html preformatted", "preformatted text", "source code", "code"}
_CODE_CHARACTER_STYLES = {"html code", "code", "verbatim char", "source text", "html keyboard",
                          "html sample", "html typewriter"}


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


def _style_named(style, names: set[str]) -> bool:
    """Whether the style, or one it is based on, is one of ``names`` or has "code" in its
    name."""
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip().lower()
        if name in names or "code" in name:
            return True
        style = style.base_style
        seen += 1
    return False


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
            return ordered_marker(n, kind)[:-1]

        def repl(m: re.Match) -> str:
            lv = int(m.group(1)) - 1
            f = fmt if lv == level else self.formats.get((num_id, lv), ("decimal", ""))[0]
            return fmt_one(max(counts[lv], 1), f)
        return re.sub(r"%([1-9])", repl, text).strip() or f"{counts[level]}."


_FONT = ("italic", "bold", "underline", "strike", "double_strike", "superscript", "subscript")


class _Context:
    """What reading a body needs besides the body: the document, its numbering, and the facts
    of its styles by style id, each worked out once (python-docx finds a style, and a style's
    base style, by scanning every style of the document: per paragraph and per run that made
    long documents slow)."""

    def __init__(self, document, numbering: _Numbering) -> None:
        self.document = document
        self.numbering = numbering
        self._paragraph_styles: dict[str | None, tuple] = {}
        self._run_styles: dict[str | None, tuple[dict[str, object], bool]] = {}

    def paragraph_style(self, paragraph) -> tuple:
        """(style, heading level, whether code, list level by name, numbering by style)."""
        key = paragraph._p.style
        found = self._paragraph_styles.get(key)
        if found is None:
            style = paragraph.style
            level = _heading_level(style)
            found = (style, level,
                     level is None and _style_named(style, _CODE_PARAGRAPH_STYLES),
                     _style_list_level(style), _style_numbering(style))
            self._paragraph_styles[key] = found
        return found

    def run_style(self, run) -> tuple[dict[str, object], bool]:
        """The font values a run's character style (and those it is based on) sets, and whether
        it is a code style."""
        key = run._r.style
        found = self._run_styles.get(key)
        if found is None:
            chain = []
            style = run.style
            while style is not None and len(chain) < 10:
                chain.append(style)
                style = style.base_style
            values: dict[str, object] = {}
            for attr in _FONT:
                values[attr] = next((v for v in (getattr(s.font, attr) for s in chain)
                                     if v is not None), None)
            found = (values, bool(chain) and _style_named(chain[0], _CODE_CHARACTER_STYLES))
            self._run_styles[key] = found
        return found


def _run_emphasis(run, ctx: _Context) -> int:
    flags = 0
    styled, code = ctx.run_style(run)

    def effective(attr: str):
        value = getattr(run.font, attr)
        return styled[attr] if value is None else value
    if effective("italic"):
        flags |= ITALIC
    if effective("bold"):
        flags |= BOLD
    u = effective("underline")
    if u is not None and u is not False and getattr(u, "value", 1) != 0:
        flags |= UNDERLINE
    if effective("strike") or effective("double_strike"):
        flags |= STRIKE
    if effective("superscript"):
        flags |= SUPERSCRIPT
    elif effective("subscript"):
        flags |= SUBSCRIPT
    if code:
        flags |= NO_CONTRACT
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


def _picture(el) -> tuple[str, str]:
    """What a drawing (``w:drawing``, VML ``w:pict``/``w:object``) in a run shows: ("image",
    its alt text), ("image", "") for a picture without one, ("rule", "") for a horizontal line,
    ("", "") for anything else (a text box, a decorative picture, a shape)."""
    if el.tag == f"{MC}AlternateContent":  # the first choice is what Word shows
        choice = el.find(f"{MC}Choice")
        for child in (choice if choice is not None else []):
            found = _picture(child)
            if found[0]:
                return found
        return "", ""
    if el.tag == f"{W}drawing":
        doc_pr = el.find(f".//{WP}docPr")
        if doc_pr is not None:
            if any(node.tag.rsplit("}", 1)[-1] == "decorative" and
                   node.get("val", "").lower() in ("1", "true") for node in doc_pr.iter()
                   if isinstance(node.tag, str)):
                return "", ""  # marked decorative (Word's accessibility checker)
            alt = (doc_pr.get("descr") or "").strip() or (doc_pr.get("title") or "").strip()
            if alt:
                return "image", alt
        return ("image", "") if el.find(f".//{PIC}pic") is not None else ("", "")
    # VML: Word's "Horizontal Line", and pictures in documents from older Word versions
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if node.get(f"{O}hr") in ("t", "true"):
            return "rule", ""
        if node.tag in (f"{V}shape", f"{V}rect", f"{V}imagedata"):
            alt = (node.get("alt") or "").strip() or (node.get(f"{O}title") or "").strip()
            if alt:
                return "image", alt
    return ("image", "") if el.find(f".//{V}imagedata") is not None else ("", "")


_DRAWINGS = {f"{W}drawing", f"{W}pict", f"{W}object", f"{MC}AlternateContent"}


def _runs_content(paragraph, ctx: _Context) -> tuple[list[list[Inline]], bool]:
    """The paragraph's inline content, split where a hard page break is (print starts a new page
    there: the words on either side are not one), and whether it draws a horizontal line."""
    segments: list[list[Inline]] = [[]]
    bare_pictures = 0
    rule = False
    for run in _runs(paragraph):
        flags = _run_emphasis(run, ctx)
        out = segments[-1]
        for child in run._r:
            tag = child.tag
            if tag == f"{W}t":
                out.append(Span(child.text or "", flags))
            elif tag in (f"{W}tab", f"{W}ptab"):
                out.append(Span(" ", flags))
            elif tag == f"{W}br":
                kind = child.get(f"{W}type")
                if kind in (None, "textWrapping"):
                    out.append(LineBreak())
                elif kind == "page":
                    out = []
                    segments.append(out)
                else:  # a column break: the words on either side are not one
                    out.append(Span(" ", flags))
            elif tag == f"{W}cr":
                out.append(LineBreak())
            elif tag == f"{W}noBreakHyphen":
                out.append(Span("-", flags))
            elif tag in _DRAWINGS:
                kind, alt = _picture(child)
                if kind == "rule":
                    rule = True
                elif alt:  # BANA: a description of an image is a transcriber's note
                    out.extend(image_note(alt, flags))
                elif kind:
                    bare_pictures += 1
            # w:lastRenderedPageBreak is where Word last laid out a page: not the document's
    content = [c for c in (close_up_notes(normalise_inlines(seg)) for seg in segments) if c]
    if not content and bare_pictures:  # a picture alone in its paragraph is worth a note
        content = [[Span("image", TRANSNOTE)]]
    return content, rule


def _code_lines(paragraph) -> list[str]:
    """A code paragraph's text as printed: spaces and tabs kept, every break a new line."""
    parts: list[str] = []
    for run in _runs(paragraph):
        for child in run._r:
            tag = child.tag
            if tag == f"{W}t":
                parts.append(child.text or "")
            elif tag in (f"{W}tab", f"{W}ptab"):
                parts.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                parts.append("\n")
            elif tag == f"{W}noBreakHyphen":
                parts.append("-")
    return "".join(parts).replace("\u00a0", " ").split("\n")


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
    ctx = _Context(document, _Numbering(document))
    try:
        _read_body(ctx, body, doc)
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


def _read_body(ctx: _Context, container, doc: Document) -> None:
    from docx.text.paragraph import Paragraph as DocxParagraph

    part = ctx.document.part
    code: Code | None = None  # the code block that consecutive code paragraphs extend
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{W}p":
            paragraph = DocxParagraph(child, part)
            if ctx.paragraph_style(paragraph)[2]:  # a code style
                if code is None:
                    code = Code([])
                lines = _code_lines(paragraph)
                if not code.lines or not any(line.strip() for line in code.lines):
                    if any(line.strip() for line in lines):  # placed once it has text
                        doc.blocks.append(code)
                code.lines.extend(lines)
                continue
            _paragraph(paragraph, ctx, doc)
        elif tag == f"{W}tbl":
            _table(ctx, child, doc)
        elif tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                _read_body(ctx, content, doc)
        else:
            continue  # properties, bookmarks: no text, and no end to a code block
        code = None


def _bordered_line(p) -> bool:
    """An empty paragraph with a top or bottom border and no side borders: Word's line across
    the page (typing --- and Enter makes one), not a box around text."""
    ppr = p._p.pPr
    borders = ppr.find(f"{W}pBdr") if ppr is not None else None
    if borders is None:
        return False
    sides = {b.tag for b in borders if (b.get(f"{W}val") or "none") not in ("none", "nil")}
    return bool(sides & {f"{W}top", f"{W}bottom"}) and not sides & {f"{W}left", f"{W}right"}


def _paragraph(p, ctx: _Context, doc: Document) -> None:
    _, level, _, list_level, style_num = ctx.paragraph_style(p)
    numbering = ctx.numbering
    segments, rule = _runs_content(p, ctx)
    num_pr = p._p.pPr.numPr if p._p.pPr is not None else None
    if level is not None:
        content = _joined(segments)
        if content:
            doc.blocks.append(Heading(level, content))
        return
    marker = ""
    if num_pr is not None and num_pr.numId is not None and num_pr.numId.val != 0:
        ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        list_level = min(int(ilvl), 8)
        marker = numbering.marker(str(num_pr.numId.val), list_level)
    elif num_pr is None:
        if style_num is not None:
            num_id, ilvl = style_num
            if ilvl is None:
                ilvl = list_level or 0
            list_level = min(ilvl, 8)
            marker = numbering.marker(num_id, list_level)
    if not segments:
        if (rule or _bordered_line(p)) and doc.blocks and not isinstance(doc.blocks[-1], Rule):
            doc.blocks.append(Rule())
        return
    for n, content in enumerate(segments):
        if list_level is not None:  # after a page break, the item goes on
            doc.blocks.append(ListItem(list_level, content, "" if n else marker, n > 0))
        else:
            doc.blocks.append(Paragraph(content))


def _joined(segments: list[list[Inline]]) -> list[Inline]:
    parts: list[Inline] = []
    for segment in segments:
        if parts:
            parts.append(Span(" "))
        parts.extend(segment)
    return normalise_inlines(parts)


def _span(value: str | None) -> int:
    return max(1, min(int(value), MAX_SPAN)) if value and value.strip().isdigit() else 1


def _children(el, tag: str) -> list:
    """Children with ``tag``, those inside content controls (w:sdt) included."""
    out = []
    for child in el:
        if child.tag == tag:
            out.append(child)
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                out.extend(_children(content, tag))
    return out


def _table(ctx: _Context, tbl, doc: Document) -> None:
    """Rows of cells as Word lays them out on its grid: a cell spanning grid columns
    (w:gridSpan) is one cell with that colspan; a vertical merge (w:vMerge) is one cell whose
    rowspan counts the rows it continues into. Header rows: those marked to repeat on each page
    (w:tblHeader), else a first row all in bold; their bold is styling, not emphasis."""
    rows: list[list[Cell]] = []
    header_rows = 0
    merging: dict[int, Cell] = {}  # grid column → the cell a vertical merge there continues
    trs = _children(tbl, f"{W}tr")
    for r, tr in enumerate(trs):
        trpr = tr.find(f"{W}trPr")
        cells: list[Cell] = []
        col = 0
        before = trpr.find(f"{W}gridBefore") if trpr is not None else None
        skipped = before.get(f"{W}val") if before is not None else None
        if skipped and skipped.strip().isdigit() and int(skipped) > 0:
            col = _span(skipped)
            cells.append(Cell([], col))  # grid columns this row leaves out, stated as empty
        for tc in _children(tr, f"{W}tc"):
            tcpr = tc.find(f"{W}tcPr")
            span = 1
            vmerge = None
            if tcpr is not None:
                grid_span = tcpr.find(f"{W}gridSpan")
                span = _span(grid_span.get(f"{W}val")) if grid_span is not None else 1
                vmerge = tcpr.find(f"{W}vMerge")
            merge = None if vmerge is None else (vmerge.get(f"{W}val") or "continue")
            above = merging.get(col)
            if merge == "continue" and above is not None and above.colspan == span:
                above.rowspan += 1  # Word shows the cell above running on: no cell of its own
                col += span
                continue
            inner = Document([])
            _read_body(ctx, tc, inner)
            cell = Cell(flat_inlines(inner.blocks), span)
            if merge == "restart":
                merging[col] = cell
            else:
                merging.pop(col, None)
            cells.append(cell)
            col += span
        for stale in [k for k in merging if k >= col]:  # the row ended before these columns
            del merging[stale]
        tbl_header = trpr.find(f"{W}tblHeader") if trpr is not None else None
        marked = tbl_header is not None and (tbl_header.get(f"{W}val") or "true").lower() \
            not in ("0", "false", "off")
        all_bold = all(c.content and all(isinstance(i, Span) and i.emphasis & BOLD
                                         for i in c.content) for c in cells)
        if r == header_rows and (marked or (r == 0 and all_bold and len(trs) > 1)):
            header_rows += 1
            for c in cells:  # changed in place: a vertical merge may still extend them
                c.content = normalise_inlines([Span(i.text, i.emphasis & ~EMPHASIS_MASK)
                                               if isinstance(i, Span) else i for i in c.content])
                c.header = True
        rows.append(cells)
    if rows:
        doc.blocks.append(Table(rows, header_rows))
