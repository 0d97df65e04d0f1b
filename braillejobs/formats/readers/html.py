"""HTML and XHTML: a real parser (lxml), a walk over the tree into blocks.

.html is parsed with libxml2's HTML parser (forgiving, like a browser); .xhtml and EPUB content
documents with the XML parser, entity resolution off (HTML named entities such as ``&nbsp;`` are
rewritten to character references first, so they need no DTD). script, style, nav, template and
hidden elements are dropped; the alt text of images is kept as text; EPUB page-break markers
(``epub:type="pagebreak"`` or ``role="doc-pagebreak"``) become print page numbers.
"""

from __future__ import annotations

import html.entities
import re

from ..blocks import (BOLD, ITALIC, UNDERLINE, BlockQuote, Document, Heading, Inline, LineBreak,
                      ListItem, PageMarker, Paragraph, Span, Table, normalise_inlines, plain_text)
from ..errors import DocumentError
from ..safety import xml_parser
from .txt import decode_text

DROP = {"script", "style", "nav", "template", "head", "noscript", "iframe", "object", "embed",
        "svg", "math", "button", "select", "input", "textarea", "map", "audio", "video"}
EMPHASIS = {"em": ITALIC, "i": ITALIC, "cite": ITALIC, "dfn": ITALIC, "var": ITALIC,
            "strong": BOLD, "b": BOLD, "u": UNDERLINE, "ins": UNDERLINE}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "figure",
          "figcaption", "address", "body", "html", "center", "hgroup", "details", "summary",
          "form", "fieldset", "legend", "hr", "dl", "pre", "caption", "tbody", "thead", "tfoot",
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


def _ordered_marker(n: int, kind: str) -> str:
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
        self.pre = 0

    @property
    def blocks(self) -> list:
        return self.stack[0]

    # -- collecting ------------------------------------------------------------------------
    def flush(self) -> None:
        content = normalise_inlines(self.inline)
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
        if not text:
            return
        if self.pre:
            lines = text.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.inline.append(LineBreak())
                if line:
                    self.inline.append(Span(line, emph))
        else:
            self.inline.append(Span(text, emph))

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
            alt = (el.get("alt") or "").strip()
            if alt:
                self.text(f" {alt} ", emph)
            return
        if name in EMPHASIS:
            self.text(el.text, emph | EMPHASIS[name])
            self.walk(el, emph | EMPHASIS[name])
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
                        marker = _ordered_marker(counter[0], kind)
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
            self.flush()
            table = self.table(el)
            if table.rows or table.caption:
                self.stack[-1].append(table)
            return
        if name == "pre":
            self.flush()
            self.pre += 1
            self.text((el.text or "").lstrip("\n"), emph)
            self.walk(el, emph)
            self.pre -= 1
            self.flush()
            return
        if name in BLOCKS or name == "li":
            self.flush()
            self.text(el.text, emph)
            self.walk(el, emph)
            self.flush()
            return
        # any other element is inline (span, a, code, sup, abbr, unknown tags)
        self.text(el.text, emph)
        self.walk(el, emph)

    def inline_of(self, el, emph: int = 0) -> list[Inline]:
        """Inline content of an element, its block structure flattened to spaces."""
        saved, saved_pre = self.inline, self.pre
        self.inline = []
        sub = TreeWalker()
        sub.pre = 0
        sub.text(el.text, emph)
        sub.walk(el, emph)
        parts: list[Inline] = []
        sub.flush()
        for block in sub.blocks:
            content = getattr(block, "content", None)
            if content:
                if parts:
                    parts.append(Span(" "))
                parts.extend(content)
        self.inline, self.pre = saved, saved_pre
        return normalise_inlines(parts)

    def table(self, el) -> Table:
        rows: list[list[list[Inline]]] = []
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
            rows.append([self.inline_of(c) for c in cells])
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
