"""DOCX and EPUB documents built at test time from the real documents in ``realdocs/``.

Nobody on the project wrote the text: each builder takes one of the collected Debian documents
and only changes its container (Markdown or HTML in, Word or EPUB out), so the braille tests see
real prose, code, tables and non-ASCII text in those two formats too.

* :func:`markdown_to_docx` — a Markdown document as Word, with python-docx: headings (Heading
  1-6), paragraphs with bold, italic and inline-code runs ("Verbatim Char" character style), bullet
  and numbered lists (List Bullet / List Number, level 2 for nested lists), GFM tables (Table
  Grid, header row bold) and fenced code ("Source Code" paragraph style).
* :func:`html_to_epub` / :func:`markdown_to_epub` — an EPUB 3 zip made by hand: ``mimetype``
  stored first, ``META-INF/container.xml``, an OPF package (metadata, manifest, spine), a
  navigation document and one XHTML content document per chapter (the source is split at its
  h1/h2 headings), with ``epub:type="pagebreak"`` print page markers.

The output is deterministic (fixed zip timestamps), and each builder records what it put in
(:class:`Built`), so the tests can check the documents are what they claim to be.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from tests.fixtures.make_fixtures import epub_archive

REALDOCS = Path(__file__).resolve().parent / "realdocs"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"


@dataclass
class Built:
    """A built document and what went into it."""

    data: bytes
    source: str  # the realdocs file it was built from
    headings: int = 0
    paragraphs: int = 0
    bullets: int = 0
    tables: int = 0
    bold_runs: int = 0
    italic_runs: int = 0
    chapters: list[str] = field(default_factory=list)  # EPUB content documents, spine order
    page_markers: int = 0


# --- Markdown → DOCX -------------------------------------------------------------------------

def _markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def excerpt(text: str, sections: int, also: tuple[str, ...] = ()) -> str:
    """The first ``sections`` top-level (``# ``) sections of a Markdown text, and each section
    whose heading line is in ``also`` (to the next heading of its level or above)."""
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith("# ")] + [len(lines)]
    keep = lines[:starts[min(sections, len(starts) - 1)]]
    for heading in also:
        start = lines.index(heading)
        level = len(heading) - len(heading.lstrip("#"))
        end = next((n for n in range(start + 1, len(lines)) if re.match(r"#{1,%d} " % level,
                                                                         lines[n])), len(lines))
        keep += [""] + lines[start:end]
    return "\n".join(keep)


def markdown_to_docx(source: str, title: str | None = None, sections: int | None = None,
                     also: tuple[str, ...] = ()) -> Built:
    """A Markdown document from ``realdocs/`` as Word (the whole text, or an :func:`excerpt`
    when ``sections`` is given)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    text = (REALDOCS / source).read_text("utf-8")
    if sections is not None:
        text = excerpt(text, sections, also)
    tokens = _markdown_parser().parse(text)
    d = docx.Document()
    d.core_properties.title = title or source
    d.core_properties.author = "realdocs_build (text from Debian)"
    code_char = d.styles.add_style("Verbatim Char", WD_STYLE_TYPE.CHARACTER)
    code_char.font.name = "Courier New"
    code_para = d.styles.add_style("Source Code", WD_STYLE_TYPE.PARAGRAPH)
    code_para.font.name = "Courier New"
    code_para.font.size = Pt(9)
    built = Built(b"", source)

    def add_inline(paragraph, inline, bold_all: bool = False) -> None:
        bold = italic = strike = 0
        for child in inline.children or []:
            t = child.type
            if t == "strong_open":
                bold += 1
            elif t == "strong_close":
                bold -= 1
            elif t == "em_open":
                italic += 1
            elif t == "em_close":
                italic -= 1
            elif t == "s_open":
                strike += 1
            elif t == "s_close":
                strike -= 1
            elif t in ("text", "code_inline", "softbreak", "hardbreak", "image", "html_inline"):
                if t == "softbreak":
                    content = " "
                elif t == "hardbreak":
                    paragraph.add_run().add_break()
                    continue
                elif t == "image":
                    content = child.content or ""
                elif t == "html_inline":
                    continue  # <br>, <a id=...>, comments: no text
                else:
                    content = child.content
                if not content:
                    continue
                run = paragraph.add_run(content, style="Verbatim Char" if t == "code_inline"
                                        else None)
                if bold or bold_all:
                    run.bold = True
                    built.bold_runs += 1
                if italic:
                    run.italic = True
                    built.italic_runs += 1
                if strike:
                    run.font.strike = True

    lists: list[str] = []  # "bullet" / "ordered", innermost last
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        t = tok.type
        if t == "heading_open":
            level = min(int(tok.tag[1]), 6)
            add_inline(d.add_heading("", level=level), tokens[i + 1])
            built.headings += 1
            i += 3
            continue
        if t in ("bullet_list_open", "ordered_list_open"):
            lists.append("bullet" if t == "bullet_list_open" else "ordered")
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t == "paragraph_open":
            inline = tokens[i + 1]
            if lists:
                kind = "List Bullet" if lists[-1] == "bullet" else "List Number"
                style = kind + (" 2" if len(lists) > 1 else "")
                built.bullets += kind == "List Bullet"
            else:
                style = None
            add_inline(d.add_paragraph(style=style), inline)
            built.paragraphs += 1
            i += 3
            continue
        elif t in ("fence", "code_block"):
            lines = tok.content.rstrip("\n").split("\n")
            p = d.add_paragraph(style="Source Code")
            for n, line in enumerate(lines):
                if n:
                    p.add_run().add_break()
                p.add_run(line)
            built.paragraphs += 1
        elif t == "table_open":
            i = _docx_table(d, tokens, i, add_inline, built)
            continue
        elif t == "html_block":
            plain = re.sub(r"<[^>]*>", " ", tok.content)
            plain = re.sub(r"\s+", " ", plain).strip()
            if plain and not tok.content.lstrip().startswith("<!--"):
                d.add_paragraph(plain)
                built.paragraphs += 1
        i += 1
    out = io.BytesIO()
    d.save(out)
    built.data = out.getvalue()
    return built


def _docx_table(d, tokens, i: int, add_inline, built: Built) -> int:
    """Add the GFM table that opens at ``tokens[i]``; the index after its close."""
    rows: list[list] = []  # each cell: (inline token, header?)
    j = i + 1
    while tokens[j].type != "table_close":
        if tokens[j].type == "tr_open":
            rows.append([])
        elif tokens[j].type in ("th_open", "td_open"):
            rows[-1].append((tokens[j + 1], tokens[j].type == "th_open"))
        j += 1
    cols = max(len(r) for r in rows)
    table = d.add_table(rows=len(rows), cols=cols)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, (inline, head) in enumerate(row):
            add_inline(table.rows[r].cells[c].paragraphs[0], inline, bold_all=head)
    built.tables += 1
    return j + 1


# --- HTML / Markdown → EPUB ------------------------------------------------------------------

_WRAPPERS = {"div", "section", "article", "main", "body", "center"}
_DROP = {"script", "style", "nav", "head", "noscript", "template"}


def _flatten(el) -> list:
    """The content blocks of ``el``: wrapper elements holding no text of their own are opened,
    so that headings inside them are found at the top level."""
    from lxml import etree

    out = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname.lower()
        if name in _DROP:
            continue
        own_text = (child.text or "").strip() or any((g.tail or "").strip() for g in child)
        if name in _WRAPPERS and not own_text:
            out.extend(_flatten(child))
        else:
            out.append(child)
    return out


def _xhtml(el) -> str:
    """An element as XHTML text (namespace-free: it inherits the document's default namespace)."""
    from lxml import etree

    el = _clean_copy(el)
    return etree.tostring(el, encoding="unicode", method="xml", with_tail=False)


def _clean_copy(el):
    import copy

    from lxml import etree

    el = copy.deepcopy(el)
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        node.tag = etree.QName(node).localname
        for key in list(node.attrib):
            if key.startswith("xmlns") or "{" in key or not re.fullmatch(r"[A-Za-z_][\w.-]*", key):
                del node.attrib[key]
    etree.cleanup_namespaces(el)
    return el


def _chapters(blocks: list) -> list[list]:
    """Blocks split into chapters at h1/h2 headings (h3 when that gives fewer than two)."""
    from lxml import etree

    def split(levels: set[str]) -> list[list]:
        chapters: list[list] = [[]]
        for b in blocks:
            if etree.QName(b).localname.lower() in levels and chapters[-1]:
                chapters.append([])
            chapters[-1].append(b)
        return [c for c in chapters if c]

    chapters = split({"h1", "h2"})
    if len(chapters) < 2:
        chapters = split({"h1", "h2", "h3"})
    if len(chapters) < 2:
        half = max(1, len(blocks) // 2)
        chapters = [blocks[:half], blocks[half:]]
    return chapters


def _chapter_title(chapter: list, n: int) -> str:
    for b in chapter:
        text = " ".join("".join(b.itertext()).split())
        if text:
            return text[:80]
    return f"Chapter {n}"


CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


def _epub(title: str, source: str, chapters: list[list], every: int) -> Built:
    """The EPUB zip: a page marker at the start of each chapter and before every ``every``-th
    block within one."""
    built = Built(b"", source)
    page = 1
    docs: list[tuple[str, str, str]] = []  # (file name, title, xhtml)
    for n, chapter in enumerate(chapters, start=1):
        parts = []
        for k, block in enumerate(chapter):
            if k % every == 0:
                parts.append(f'<span epub:type="pagebreak" role="doc-pagebreak" '
                             f'id="page{page}" title="{page}"/>')
                page += 1
                built.page_markers += 1
            parts.append(_xhtml(block))
        name = f"chapter{n:02d}.xhtml"
        ch_title = _chapter_title(chapter, n)
        body = "\n".join(parts)
        docs.append((name, ch_title, (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<html xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}" lang="en" xml:lang="en">\n'
            f"<head><title>{escape(ch_title)}</title></head>\n"
            f'<body><section epub:type="chapter">\n{body}\n</section></body>\n</html>\n')))
        built.chapters.append(name)
    nav_items = "\n".join(f'<li><a href="{name}">{escape(t)}</a></li>' for name, t, _ in docs)
    nav = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<html xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}" lang="en" xml:lang="en">\n'
           f"<head><title>Contents</title></head>\n"
           f'<body><nav epub:type="toc" id="toc"><h1>Contents</h1><ol>\n{nav_items}\n</ol></nav>'
           "</body>\n</html>\n")
    manifest = "\n".join(f'    <item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>'
                         for n, (name, _, _) in enumerate(docs, start=1))
    spine = "\n".join(f'    <itemref idref="c{n}"/>' for n in range(1, len(docs) + 1))
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid"
         xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="bookid">urn:braillejobs:realdocs:{escape(source)}</dc:identifier>
    <dc:title>{escape(title)}</dc:title>
    <dc:language>en</dc:language>
    <dc:source>{escape(source)}</dc:source>
    <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
{manifest}
  </manifest>
  <spine>
{spine}
  </spine>
</package>
"""
    built.data = epub_archive([("META-INF/container.xml", CONTAINER),
                               ("OEBPS/package.opf", opf), ("OEBPS/nav.xhtml", nav)]
                              + [(f"OEBPS/{name}", xhtml) for name, _, xhtml in docs], FIXED_TIME)
    return built


def html_to_epub(source: str, every: int = 12) -> Built:
    """An HTML manual from ``realdocs/`` as an EPUB, one chapter per h1/h2 section."""
    import lxml.html

    root = lxml.html.document_fromstring((REALDOCS / source).read_bytes())
    title_el = root.find(".//title")
    title = " ".join((title_el.text_content() if title_el is not None else source).split())
    body = root.find("body")
    return _epub(title or source, source, _chapters(_flatten(body)), every)


def markdown_to_epub(source: str, every: int = 6) -> Built:
    """A Markdown document from ``realdocs/`` (rendered with markdown-it) as an EPUB."""
    import lxml.html

    rendered = _markdown_parser().render((REALDOCS / source).read_text("utf-8"))
    root = lxml.html.document_fromstring(f"<html><body>{rendered}</body></html>")
    body = root.find("body")
    first = next((h for h in body.iter("h1")), None)
    title = " ".join(first.text_content().split()) if first is not None else source
    return _epub(title, source, _chapters(_flatten(body)), every)


# the built documents of the suite: name → (builder, source)
BUILT = {
    "nodejs-doc_url.docx": lambda: markdown_to_docx("nodejs-doc_url.md", "URL"),
    # the two newest releases and the protocol history table (the whole NEWS as Word takes the
    # DOCX reader seconds a render)
    "rsync_NEWS.docx": lambda: markdown_to_docx("rsync_NEWS.md", "NEWS for rsync", sections=2,
                                                also=("## Partial Protocol History",)),
    "xtrans-dev_xtrans.epub": lambda: html_to_epub("xtrans-dev_xtrans.html"),
    "nodejs-doc_punycode.epub": lambda: markdown_to_epub("nodejs-doc_punycode.md"),
}


def build(name: str) -> Built:
    return BUILT[name]()


if __name__ == "__main__":  # write the built documents next to realdocs/ for a look
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    for built_name in BUILT:
        b = build(built_name)
        (target / built_name).write_bytes(b.data)
        print(built_name, len(b.data), b)
