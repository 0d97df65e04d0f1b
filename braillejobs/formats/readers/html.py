"""HTML and XHTML: a real parser (lxml), a walk over the tree into blocks.

.html is parsed with libxml2's HTML parser (forgiving, like a browser); .xhtml and EPUB content
documents with the XML parser, entity resolution off (HTML named entities such as ``&nbsp;`` are
rewritten to character references first, so they need no DTD). script, style, nav, template and
hidden elements are dropped; EPUB page-break markers (``epub:type="pagebreak"`` or
``role="doc-pagebreak"``) become print page numbers.

What print shows by typography is kept as flags the braille layout turns into indicators:
emphasis, crossed-out text (``<del>``, ``<s>``), computer code (``<code>``, ``<kbd>``: written
uncontracted), superscripts and subscripts (``<sup>``, ``<sub>``, footnote reference marks: UEB
level indicators). ``<pre>`` is a :class:`Code` block with its lines as printed; ``<hr>`` a
:class:`Rule`; ``<q>`` gets the quotation marks a browser draws; the alt text of an image is a
transcriber's note (BANA: descriptions of images are transcriber's notes), and an image with
empty alt text is decorative and left out. Table cells keep their row and column spans.
"""

from __future__ import annotations

import html.entities
import re

from ..blocks import (BOLD, ITALIC, LEVEL_MASK, MAX_SPAN, NO_CONTRACT, STRIKE, SUBSCRIPT,
                      SUPERSCRIPT, TRANSNOTE, UNDERLINE, BlockQuote, Cell, Code, Document, Heading,
                      Inline, LineBreak, ListItem, PageMarker, Paragraph, Rule, Span, Table,
                      normalise_inlines, plain_text)
from ..errors import DocumentError
from ..safety import xml_parser
from .txt import decode_text

DROP = {"script", "style", "nav", "template", "head", "noscript", "iframe", "object", "embed",
        "svg", "math", "button", "select", "input", "textarea", "map", "audio", "video"}
# inline elements whose print typography the braille shows (the Markdown reader uses these too)
EMPHASIS = {"em": ITALIC, "i": ITALIC, "cite": ITALIC, "dfn": ITALIC, "var": ITALIC,
            "strong": BOLD, "b": BOLD, "u": UNDERLINE, "ins": UNDERLINE,
            "del": STRIKE, "s": STRIKE, "strike": STRIKE,
            "code": NO_CONTRACT, "kbd": NO_CONTRACT, "samp": NO_CONTRACT, "tt": NO_CONTRACT,
            "sup": SUPERSCRIPT, "sub": SUBSCRIPT}
PRE = {"pre", "listing", "xmp", "plaintext"}  # preformatted text (the last three are obsolete)
# quotation marks a browser draws around <q>: double outside, single within (UEB 7.6)
QUOTES = (("\u201c", "\u201d"), ("\u2018", "\u2019"))
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "figure",
          "figcaption", "address", "body", "html", "center", "hgroup", "details", "summary",
          "form", "fieldset", "legend", "dl", "caption", "tbody", "thead", "tfoot",
          "tr", "td", "th", "body"}

_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")


def local_name(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def attr(el, name: str) -> str | None:
    """An attribute by local name, whatever its namespace or prefix (epub:type, xml:lang)."""
    for key, value in el.attrib.items():
        k = key.rsplit("}", 1)[-1]
        k = k.rsplit(":", 1)[-1]
        if k.lower() == name:
            return value
    return None


def is_pagebreak(el) -> bool:
    types = (attr(el, "type") or "").split()
    return "pagebreak" in types or (el.get("role") or "") == "doc-pagebreak"


def page_label(el) -> str:
    for candidate in (el.get("title"), el.get("aria-label"), "".join(el.itertext())):
        if candidate and candidate.strip():
            label = re.sub(r"(?i)^\s*(page|p\.)\s*", "", candidate.strip())
            if label:
                return label[:20]
    ident = el.get("id") or ""
    m = re.search(r"(\d+)$", ident)
    return m.group(1) if m else "?"


def _hidden(el) -> bool:
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style


def _classes(el) -> list[str]:
    return (el.get("class") or "").lower().split()


def is_noteref(el) -> bool:
    """A footnote reference mark (pandoc, EPUB, DPUB-ARIA): printed raised, read as one."""
    types = (attr(el, "type") or "").split()
    return ("noteref" in types or (el.get("role") or "") == "doc-noteref"
            or any(c in ("footnote-ref", "footnote-reference", "noteref") for c in _classes(el)))


def is_backlink(el) -> bool:
    """A link from a note back to its reference (↩): screen navigation, not print content."""
    return ((el.get("role") or "") == "doc-backlink"
            or any(c in ("footnote-back", "footnote-backref", "reversefootnote")
                   for c in _classes(el)))


def span_count(value: str | None) -> int:
    """A colspan or rowspan as browsers read it (leading digits); anything else is 1."""
    m = re.match(r"\s*\+?(\d{1,9})", value or "")
    n = int(m.group(1)) if m else 1
    return min(n, MAX_SPAN) if n >= 1 else 1


def code_language(el) -> str:
    """The language a <pre> (or its <code>) names by the usual class="language-x"."""
    candidates = [el] + [c for c in el if local_name(c) == "code"][:1]
    for node in candidates:
        for cls in _classes(node):
            for prefix in ("language-", "lang-"):
                if cls.startswith(prefix) and len(cls) > len(prefix):
                    return cls[len(prefix):][:40]
        lang = node.get("data-lang") or node.get("data-language")
        if lang and lang.strip():
            return lang.strip().lower()[:40]
    return ""


def pre_lines(el) -> list[str]:
    """The lines of preformatted text as printed: inner markup flattened, <br> a new line, the
    newline right after the start tag dropped (HTML does), spaces and tabs kept, trailing blank
    lines (invisible in print) dropped."""
    parts: list[str] = []
    _pre_text(el, parts)
    text = "".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    if text.startswith("\n"):
        text = text[1:]
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _pre_text(el, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for child in el:
        name = local_name(child)
        if name == "br":
            parts.append("\n")
        elif name and name not in DROP and not _hidden(child) and not is_pagebreak(child):
            _pre_text(child, parts)
        elif not name and child.tag is not None and type(child).__name__ == "_Entity":
            cp = html.entities.name2codepoint.get(child.text.strip("&;"), None)
            if cp:
                parts.append(chr(cp))
        if child.tail:
            parts.append(child.tail)


_CLOSING = set(".,;:!?)]}\u201d\u2019\u2026")


def image_note(alt: str, emph: int = 0) -> list[Inline]:
    """An image's alt text as a transcriber's note (BANA: descriptions of images are
    transcriber's notes), set apart from the words around it; nothing for empty alt text (a
    decorative image)."""
    alt = plain_text([Span(alt)])
    if not alt:
        return []
    emph &= ~LEVEL_MASK  # the spaces around are not raised or lowered
    return [Span(" ", emph), Span(f"image: {alt}", TRANSNOTE), Span(" ", emph)]


def close_up_notes(content: list[Inline]) -> list[Inline]:
    """Normalised content without the space that set a note apart before punctuation that
    follows it ("…⠈⠨⠜." rather than "…⠈⠨⠜ .")."""
    out = list(content)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if isinstance(a, Span) and a.emphasis & TRANSNOTE and isinstance(b, Span) and \
                not b.emphasis & TRANSNOTE and b.text[:1] == " " and b.text[1:2] in _CLOSING:
            out[i + 1] = Span(b.text[1:], b.emphasis)
    return out


def flat_inlines(blocks: list) -> list[Inline]:
    """Blocks as one run of inline content (a table cell, a caption): blocks separated by a
    space, list markers kept, code uncontracted on one line, a nested table row by row."""
    parts: list[Inline] = []

    def add(content: list[Inline]) -> None:
        if content:
            if parts:
                parts.append(Span(" "))
            parts.extend(content)

    for block in blocks:
        if isinstance(block, ListItem):
            add(([Span(block.marker + " ")] if block.marker else []) + list(block.content))
        elif isinstance(block, Code):
            add([Span(" ".join(line.strip() for line in block.lines if line.strip()),
                      NO_CONTRACT)])
        elif isinstance(block, BlockQuote):
            add(flat_inlines(block.blocks))
        elif isinstance(block, Table):
            add(list(block.caption))
            rows_added = False
            for row in block.rows:
                cells: list[Inline] = []
                for cell in row:
                    content = cell.content if isinstance(cell, Cell) else cell
                    if content:
                        if cells:
                            cells.append(Span(", "))
                        cells.extend(content)
                if cells:
                    if parts and rows_added:
                        parts.append(Span(";"))
                    add(cells)
                    rows_added = True
        else:
            add(list(getattr(block, "content", None) or []))
    return close_up_notes(normalise_inlines(parts))


def ordered_marker(n: int, kind: str) -> str:
    if kind in ("a", "A"):
        s = ""
        while n > 0:
            n, r = divmod(n - 1, 26)
            s = chr(ord("a") + r) + s
        return (s.upper() if kind == "A" else s) + "."
    if kind in ("i", "I"):
        s = to_roman(n)
        return (s.upper() if kind == "I" else s) + "."
    return f"{n}."


def to_roman(n: int) -> str:
    if n <= 0:
        return str(n)
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        while n >= value:
            out += letters
            n -= value
    return out


class TreeWalker:
    """Turns an (X)HTML element tree into blocks."""

    def __init__(self) -> None:
        self.stack: list[list] = [[]]  # block lists: the document, then open block quotes
        self.inline: list[Inline] = []
        self.kind: list[tuple] = [("p",)]  # what flushed inline content becomes
        self.list_level = -1
        self.quotes = 0  # <q> elements open

    @property
    def blocks(self) -> list:
        return self.stack[0]

    # -- collecting ------------------------------------------------------------------------
    def flush(self) -> None:
        content = close_up_notes(normalise_inlines(self.inline))
        self.inline = []
        if not content:
            return
        kind = self.kind[-1]
        target = self.stack[-1]
        if kind[0] == "h":
            target.append(Heading(kind[1], content))
        elif kind[0] == "li":
            target.append(ListItem(kind[1], content, kind[2] or "", kind[2] is None))
            # later paragraphs of the same item continue it
            self.kind[-1] = ("li", kind[1], None)
        else:
            target.append(Paragraph(content))

    def text(self, text: str | None, emph: int) -> None:
        if text:
            self.inline.append(Span(text, emph))

    def block(self, block) -> None:
        """A block of its own (code, a rule, a table) where the walk is: what came before is
        flushed first."""
        self.flush()
        self.stack[-1].append(block)

    # -- walking ---------------------------------------------------------------------------
    def walk(self, el, emph: int = 0) -> None:
        for child in el:
            self.element(child, emph)
            self.text(child.tail, emph)

    def element(self, el, emph: int) -> None:
        name = local_name(el)
        if not name:
            if el.tag is not None and type(el).__name__ == "_Entity":  # unresolved entity
                cp = html.entities.name2codepoint.get(el.text.strip("&;"), None)
                if cp:
                    self.text(chr(cp), emph)
            return
        if name in DROP or _hidden(el):
            return
        if is_pagebreak(el):
            self.inline.append(PageMarker(page_label(el)))
            return
        if name == "br":
            self.inline.append(LineBreak())
            return
        if name == "img":
            self.inline.extend(image_note(el.get("alt") or "", emph))
            return
        if name == "hr":
            self.block(Rule())
            return
        if name in PRE:
            lines = pre_lines(el)
            if any(line.strip() for line in lines):
                self.block(Code(lines, code_language(el)))
            return
        if name == "q":
            marks = QUOTES[min(self.quotes, 1)]
            self.quotes += 1
            self.text(marks[0], emph)
            self.text(el.text, emph)
            self.walk(el, emph)
            self.text(marks[1], emph)
            self.quotes -= 1
            return
        if name == "a" and is_backlink(el):
            return
        flags = EMPHASIS.get(name, 0) | (SUPERSCRIPT if is_noteref(el) else 0)
        if flags:
            self.text(el.text, emph | flags)
            self.walk(el, emph | flags)
            return
        if name in HEADINGS:
            self.flush()
            self.kind.append(("h", HEADINGS[name]))
            self.text(el.text, emph)
            self.walk(el, emph)
            self.flush()
            self.kind.pop()
            return
        if name in ("ul", "ol", "dl", "menu"):
            self.flush()
            self.list_level += 1
            self.kind.append(("p",))
            counter = [int(el.get("start") or 1) - 1 if (el.get("start") or "1").lstrip("-")
                       .isdigit() else 0]
            kind = el.get("type") or "1"
            for child in el:
                cname = local_name(child)
                if cname in ("li", "dt", "dd"):
                    level = self.list_level + (1 if cname == "dd" else 0)
                    marker = ""
                    if name == "ol" and cname == "li":
                        value = child.get("value")
                        counter[0] = int(value) if value and value.isdigit() else counter[0] + 1
                        marker = ordered_marker(counter[0], kind)
                    self.kind.append(("li", level, marker))
                    self.text(child.text, emph)
                    self.walk(child, emph)
                    self.flush()
                    self.kind.pop()
                else:
                    self.element(child, emph)
                self.text(child.tail, emph)
            self.flush()
            self.kind.pop()
            self.list_level -= 1
            return
        if name == "blockquote":
            self.flush()
            self.stack.append([])
            self.kind.append(("p",))
            self.text(el.text, emph)
            self.walk(el, emph)
            self.flush()
            self.kind.pop()
            quoted = self.stack.pop()
            if quoted:
                self.stack[-1].append(BlockQuote(quoted))
            return
        if name == "table":
            table = self.table(el)
            if table.rows or table.caption:
                self.block(table)
            return
        if name in BLOCKS or name == "li":
            self.flush()
            self.text(el.text, emph)
            self.walk(el, emph)
            self.flush()
            return
        # any other element is inline (span, a, abbr, unknown tags)
        self.text(el.text, emph)
        self.walk(el, emph)

    def inline_of(self, el, emph: int = 0) -> list[Inline]:
        """Inline content of an element, its block structure flattened to spaces."""
        sub = TreeWalker()
        sub.quotes = self.quotes
        sub.text(el.text, emph)
        sub.walk(el, emph)
        sub.flush()
        return flat_inlines(sub.blocks)

    def table(self, el) -> Table:
        """Rows of cells with their spans; the header rows are the leading rows inside <thead>
        or made only of <th> cells."""
        rows: list[list[Cell]] = []
        header_rows = 0
        in_header = True
        caption: list[Inline] = []
        for row_el in _rows(el):
            if local_name(row_el) == "caption":
                caption = self.inline_of(row_el)
                continue
            cells = [c for c in row_el if local_name(c) in ("td", "th")]
            if not cells:
                continue
            heads = local_name(row_el.getparent()) == "thead" or all(
                local_name(c) == "th" for c in cells)
            rows.append([Cell(self.inline_of(c), span_count(c.get("colspan")),
                              span_count(c.get("rowspan")), local_name(c) == "th")
                         for c in cells])
            if in_header and heads:
                header_rows += 1
            else:
                in_header = False
        if header_rows == len(rows):
            header_rows = 0 if len(rows) != 1 else 1
        return Table(rows, header_rows, caption)


def _rows(table):
    for child in table:
        name = local_name(child)
        if name == "caption":
            yield child
        elif name == "tr":
            yield child
        elif name in ("thead", "tbody", "tfoot"):
            for row in child:
                if local_name(row) == "tr":
                    yield row


def _entities_to_refs(data: bytes) -> bytes:
    def repl(m: re.Match) -> bytes:
        name = m.group(1).decode("ascii")
        if name in _XML_ENTITIES:
            return m.group(0)
        cp = html.entities.name2codepoint.get(name)
        return b"&#%d;" % cp if cp else m.group(0)
    return _ENTITY_REF.sub(repl, data)


def parse_xhtml(data: bytes, filename: str):
    from lxml import etree

    try:
        root = etree.fromstring(_entities_to_refs(data), parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"{filename}: malformed XHTML ({exc}); fix the markup, or rename the "
                            "file to .html to read it with the forgiving HTML parser") from None
    if root is None:
        raise DocumentError(f"{filename}: the XHTML document is empty")
    return root


def parse_html(data: bytes, filename: str, warnings: list[str]):
    import lxml.html
    from lxml import etree

    head = data[:4096].lower()
    source: bytes | str = data
    if b"charset" not in head and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        text, warns = decode_text(data, filename)
        warnings.extend(warns)
        source = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(source, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        if "empty" in str(exc).lower():
            return None
        raise DocumentError(f"{filename}: cannot parse the HTML ({exc}); check the file") from None
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":  # e.g. elements nested over 256 deep
            raise DocumentError(f"{filename}: the HTML exceeds the parser's limits "
                                f"({error.message}); text beyond them would be lost — simplify "
                                "the markup and submit it again")
    return root


def document_from_tree(root, filename: str) -> Document:
    doc = Document([])
    if root is None:
        return doc
    for el in root.iter():
        if local_name(el) == "title":
            doc.title = plain_text([Span("".join(el.itertext()))]) or None
            break
    lang = attr(root, "lang")
    if lang:
        doc.language = lang.strip()[:35]
    body = next((el for el in root.iter() if local_name(el) == "body"), root)
    walker = TreeWalker()
    walker.text(body.text, 0)
    walker.walk(body)
    walker.flush()
    doc.blocks = walker.blocks
    return doc


def read_html(data: bytes, filename: str, xml: bool = False) -> Document:
    warnings: list[str] = []
    root = parse_xhtml(data, filename) if xml else parse_html(data, filename, warnings)
    doc = document_from_tree(root, filename)
    doc.warnings.extend(warnings)
    return doc
