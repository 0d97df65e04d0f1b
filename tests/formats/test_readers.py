"""Readers: each fixture document gives the expected blocks (golden dumps), plus the details
each format is responsible for."""

from __future__ import annotations

import pytest

from braillejobs.formats import DocumentError
from braillejobs.formats.blocks import (BOLD, ITALIC, UNDERLINE, BlockQuote, Code, Heading,
                                        LineBreak, ListItem, PageBreak, PageMarker, Paragraph, Span,
                                        Table, dump, plain_text)
from braillejobs.formats.readers import read_document

from tests.formats.helpers import FIXTURES, GOLDEN

DOCUMENTS = ("seed-library.docx", "lighthouse.epub", "library-hours.html", "composting.md",
             "cafe-letter-cp1252.txt")


def read(name: str):
    return read_document((FIXTURES / name).read_bytes(), name)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_blocks_match_golden(name):
    # regenerate with `python tests/fixtures/make_fixtures.py --golden` and review the diff
    assert dump(read(name)) == (GOLDEN / f"{name}.blocks.txt").read_text("utf-8")


# --- docx ---------------------------------------------------------------------------------------

def test_docx_headings_lists_table_emphasis():
    doc = read("seed-library.docx")
    assert doc.title == "Caring for Seed Libraries"
    levels = [b.level for b in doc.blocks if isinstance(b, Heading)]
    assert levels == [1, 2, 3, 2]
    items = [(b.level, b.marker) for b in doc.blocks if isinstance(b, ListItem)]
    assert items == [(0, ""), (0, ""), (1, ""), (1, ""), (0, ""), (0, "1."), (0, "2."), (0, "3.")]
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert table.header_rows == 1 and len(table.rows) == 4
    assert [plain_text(c.content) for c in table.rows[2]] == ["Lettuce", "5", "80%"]
    # a heading row's bold is styling: the labels carry no emphasis
    assert all(s.emphasis == 0 for c in table.rows[0] for s in c.content)
    spans = [s for b in doc.blocks if isinstance(b, Paragraph) for s in b.content
             if isinstance(s, Span)]
    assert Span("some of what they grow", ITALIC) in spans
    assert Span("renewed", BOLD) in spans
    last = doc.blocks[-1]
    assert isinstance(last, Paragraph) and any(isinstance(i, LineBreak) for i in last.content)


def test_docx_heading_style_bold_is_not_emphasis():
    doc = read("seed-library.docx")
    for b in doc.blocks:
        if isinstance(b, Heading):
            assert all(s.emphasis == 0 for s in b.content if isinstance(s, Span))


# --- epub ---------------------------------------------------------------------------------------

def test_epub_spine_order_and_print_pages():
    doc = read("lighthouse.epub")
    assert doc.title == "The Keeper of the Light" and doc.language == "en"
    headings = [plain_text(b.content) for b in doc.blocks if isinstance(b, Heading)]
    assert headings == ["Chapter One: The Lighthouse Keeper", "Chapter Two: The Letter"]
    text = dump(doc)
    assert "Contents" not in text  # the navigation document is not content
    pages = [m.number for b in doc.blocks if isinstance(b, Paragraph)
             for m in b.content if isinstance(m, PageMarker)]
    assert pages == ["1", "2", "3", "4"]  # title=, aria-label= and self-closing markers


# --- html ---------------------------------------------------------------------------------------

def test_html_drops_script_style_nav_keeps_alt_text_and_table():
    doc = read("library-hours.html")
    text = dump(doc)
    assert "never read this" not in text and "font-family" not in text
    assert "Events" not in text  # nav
    assert "The library's front door, painted green" in text
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert table.header_rows == 1 and plain_text(table.caption) == "Weekly hours"
    assert [plain_text(c.content) for c in table.rows[0]] == ["Day", "Opens", "Closes"]
    assert doc.title == "Town Library Opening Hours"


def test_html_nested_lists_blockquote_pre():
    html = (b"<body><ol><li>one<ul><li>inner <i>x</i></li></ul></li><li>two</li></ol>"
            b"<blockquote><p>q1</p><p>q2</p></blockquote><pre>a\n  b</pre></body>")
    doc = read_document(html, "n.html")
    assert doc.blocks[0] == ListItem(0, [Span("one")], "1.")
    assert doc.blocks[1] == ListItem(1, [Span("inner "), Span("x", ITALIC)], "")
    assert doc.blocks[2].marker == "2."
    assert isinstance(doc.blocks[3], BlockQuote) and len(doc.blocks[3].blocks) == 2
    assert doc.blocks[4] == Code(["a", "  b"])  # preformatted: lines and indentation kept


def test_xhtml_named_entities_without_dtd():
    x = (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
         b"<p>caf&eacute;&nbsp;bar &amp; co</p></body></html>")
    assert plain_text(read_document(x, "e.xhtml").blocks[0].content) == "caf\u00e9 bar & co"


def test_html_underline_and_page_break_between_blocks():
    html = b'<p><u>u</u></p><div role="doc-pagebreak" aria-label="Page 7"></div><p>next</p>'
    doc = read_document(html, "p.html")
    assert doc.blocks[0] == Paragraph([Span("u", UNDERLINE)])
    assert doc.blocks[1] == Paragraph([PageMarker("7")])


# --- markdown -----------------------------------------------------------------------------------

def test_markdown_structure():
    doc = read("composting.md")
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Heading", "Paragraph", "Heading", "ListItem", "ListItem", "ListItem",
                     "ListItem", "ListItem", "ListItem", "Heading", "BlockQuote", "Table",
                     "Paragraph"]
    items = [(b.level, b.marker) for b in doc.blocks if isinstance(b, ListItem)]
    assert items == [(0, "1."), (1, ""), (1, ""), (0, "2."), (1, ""), (1, "")]
    assert Span("two parts brown to one part green", BOLD) in doc.blocks[1].content


# --- text ---------------------------------------------------------------------------------------

def test_txt_cp1252_fallback_warns():
    doc = read("cafe-letter-cp1252.txt")
    assert doc.warnings and "cp1252" in doc.warnings[0]
    assert "\u201cpay what you can\u201d" in dump(doc) and "\u20ac5" in dump(doc)
    assert len(doc.blocks) == 4


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_txt_unicode_encodings_without_warning(encoding):
    text = "Caf\u00e9 \u2013 one.\n\nTwo \u201cquoted\u201d.\n"
    doc = read_document(text.encode(encoding), "u.txt")
    assert not doc.warnings
    assert [plain_text(b.content) for b in doc.blocks] == ["Caf\u00e9 \u2013 one.",
                                                          "Two \u201cquoted\u201d."]


def test_txt_lines_joined_within_paragraphs_and_form_feed_page():
    doc = read_document(b"one\ntwo\n\nthree\fsecond page\n", "f.txt")
    assert [type(b).__name__ for b in doc.blocks] == ["Paragraph", "Paragraph", "PageBreak",
                                                     "Paragraph"]
    assert plain_text(doc.blocks[0].content) == "one two"
    assert doc.blocks[2] == PageBreak("2")


def test_unsupported_extension():
    with pytest.raises(DocumentError, match=r"x\.pdf: unsupported file type"):
        read_document(b"%PDF-1.4", "x.pdf")


def test_docx_runs_in_revisions_links_and_smart_tags():
    import io

    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    p = d.add_paragraph("kept ")
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    p._p.append(parse_xml(f'<w:ins {ns} w:id="1" w:author="a"><w:r><w:t xml:space="preserve">'
                          f'inserted </w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {ns} w:id="2" w:author="a"><w:r><w:delText>deleted'
                          f'</w:delText></w:r></w:del>'))
    p._p.append(parse_xml(f'<w:smartTag {ns} w:uri="u" w:element="e"><w:r><w:rPr><w:i/>'
                          f'</w:rPr><w:t>tagged</w:t></w:r></w:smartTag>'))
    out = io.BytesIO()
    d.save(out)
    doc = read_document(out.getvalue(), "rev.docx")
    assert doc.blocks == [Paragraph([Span("kept inserted "), Span("tagged", ITALIC)])]


def test_xhtml_11_doctype_with_html_entities():
    x = (b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN"'
         b' "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n'
         b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>a&mdash;b&nbsp;c</p></body></html>')
    assert plain_text(read_document(x, "old.xhtml").blocks[0].content) == "a\u2014b c"


def test_docx_numbering_starts_where_the_definition_says():
    import io

    import docx
    from docx.oxml.ns import qn

    d = docx.Document()
    for text in ("fifth", "sixth"):
        d.add_paragraph(text, style="List Number")
    numbering = d.part.numbering_part.element
    num_id = str(d.styles["List Number"].element.pPr.numPr.numId.val)
    num = next(n for n in numbering.findall(qn("w:num")) if n.get(qn("w:numId")) == num_id)
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    abstract = next(a for a in numbering.findall(qn("w:abstractNum"))
                    if a.get(qn("w:abstractNumId")) == abstract_id)
    abstract.find(qn("w:lvl")).find(qn("w:start")).set(qn("w:val"), "5")
    out = io.BytesIO()
    d.save(out)
    doc = read_document(out.getvalue(), "start.docx")
    assert [(b.marker, plain_text(b.content)) for b in doc.blocks] == [("5.", "fifth"),
                                                                       ("6.", "sixth")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read_with_a_warning(codec):
    from braillejobs.formats.readers.txt import decode_text
    text, warnings = decode_text("The library opens at nine.\n".encode(codec), "x.txt")
    assert text == "The library opens at nine.\n"
    assert warnings and "no byte-order mark" in warnings[0] and codec.upper() in warnings[0]


@pytest.mark.parametrize("data", [b"The library\x00 opens at\x00 nine.\n" * 5,
                                  b"\x7fELF\x02\x01\x01" + bytes(400), bytes(64)])
def test_nul_bytes_that_are_not_utf16_stay_binary(data):
    from braillejobs.formats import DocumentError
    from braillejobs.formats.readers.txt import decode_text
    with pytest.raises(DocumentError, match="binary"):
        decode_text(data, "x.txt")
