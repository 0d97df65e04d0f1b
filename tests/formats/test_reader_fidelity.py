"""What print shows by typography and layout reaches the document model from every reader:
computer code, superscripts and subscripts, crossed-out text, <q> quotations, horizontal rules,
table spans, image descriptions, Word's hard page breaks and Markdown footnotes.

Each defect was found on real documents; each test names the UEB or BANA rule it serves. Documents
are built here (python-docx for Word, raw XML where python-docx has no API), read with
``read_document`` and, for every feature, rendered end to end through liblouis.
"""

from __future__ import annotations

import io
import struct
import zlib

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml

from braillejobs.formats import RenderOptions, render
from braillejobs.formats.blocks import (BOLD, ITALIC, NO_CONTRACT, STRIKE, SUBSCRIPT, SUPERSCRIPT,
                                        TRANSNOTE, Cell, Code, Heading, ListItem, PageBreak,
                                        Paragraph, Rule, Span, dump, plain_text)
from braillejobs.formats.brf import from_brf
from braillejobs.formats.readers import read_document

from tests.formats.helpers import brf_pages

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
VML_NS = (W_NS + ' xmlns:v="urn:schemas-microsoft-com:vml"'
          ' xmlns:o="urn:schemas-microsoft-com:office:office"')

NOTE_OPEN, NOTE_CLOSE = "\u2808\u2828\u2823", "\u2808\u2828\u281c"  # ⠈⠨⠣ … ⠈⠨⠜ (UEB 3.27)
STRIKE_SIGN = "\u2808\u283c"  # ⠈⠼: first transcriber-defined typeform (UEB 9.5)
SUPERSCRIPT_SIGN = "\u2830\u2814"  # ⠰⠔: grade 1 + superscript indicator (UEB 3.24)
SUBSCRIPT_SIGN = "\u2830\u2822"  # ⠰⠢: grade 1 + subscript indicator
FOR_CONTRACTED, FOR_SPELLED = "\u283f", "\u280b\u2815\u2817"  # ⠿ / ⠋⠕⠗


def html(body: str):
    return read_document(f"<html><body>{body}</body></html>".encode("utf-8"), "t.html")


def md(text: str):
    return read_document(text.encode("utf-8"), "t.md")


def saved(d) -> bytes:
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def rows(engine, data: bytes, name: str) -> list[str]:
    """The braille rows of every page, as Unicode braille (layout included: BRF)."""
    out = render(data, name, engine, RenderOptions(format="brf"))
    return [from_brf(line) for page in brf_pages(out.content) for line in page]


def braille_of(engine, text: str) -> str:
    return engine.translate_lines([text])[0].braille


def spans(blocks) -> list[Span]:
    return [i for b in blocks for i in getattr(b, "content", []) if isinstance(i, Span)]


def png() -> bytes:
    """A 1x1 PNG, enough for python-docx to embed a real picture."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b""))


# --- computer code (UEB 10.12 / BANA code guidance: uncontracted, print layout kept) ----------

def test_markdown_fenced_and_indented_code_are_code_blocks():
    # defect: code blocks were paragraphs; their indentation was collapsed and words contracted
    doc = md("Intro\n\n```python {linenos}\ndef f():\n    for x in y:\n\tpass\n```\n\n"
             "    indented   code\n\n    second\n")
    assert doc.blocks[1:] == [Code(["def f():", "    for x in y:", "\tpass"], "python"),
                              Code(["indented   code", "", "second"], "")]


def test_markdown_code_span_is_uncontracted_and_keeps_emphasis():
    # UEB 10.12: code is uncontracted; print emphasis around it is still emphasis
    doc = md("Type `for x` or **`ls -l`** now.")
    assert doc.blocks[0].content == [Span("Type "), Span("for x", NO_CONTRACT), Span(" or "),
                                     Span("ls -l", BOLD | NO_CONTRACT), Span(" now.")]


def test_html_pre_is_one_code_block_with_its_lines():
    # HTML: the newline right after <pre> is dropped (only that one); inner markup is flattened;
    # tabs and inner spaces stay for the layout; the language comes from class="language-x"
    doc = html('<pre><code class="language-js">\n\n  if (a) {<b>x</b>}\n'
               '\treturn  b;<br>done\n</code></pre><p>after</p>')
    assert doc.blocks == [Code(["", "  if (a) {x}", "\treturn  b;", "done"], "js"),
                          Paragraph([Span("after")])]


def test_html_inline_code_kbd_samp_tt_are_uncontracted():
    doc = html("<p><code>for</code> <kbd>Ctrl</kbd> <samp>out</samp> <tt>tt</tt> "
               "<em><code>x</code></em></p>")
    flags = {s.text: s.emphasis for s in spans(doc.blocks)}
    assert flags == {"for": NO_CONTRACT, "Ctrl": NO_CONTRACT, "out": NO_CONTRACT,
                     "tt": NO_CONTRACT, "x": ITALIC | NO_CONTRACT, " ": 0}


def test_docx_code_styles():
    # consecutive paragraphs in a code style are one listing, blank lines and tabs kept; a run
    # in a code character style is uncontracted
    d = docx.Document()
    d.styles.add_style("HTML Preformatted", WD_STYLE_TYPE.PARAGRAPH)
    d.styles.add_style("Source Code", WD_STYLE_TYPE.PARAGRAPH)
    d.styles.add_style("Verbatim Char", WD_STYLE_TYPE.CHARACTER)
    d.add_paragraph("Before")
    d.add_paragraph("def f():", style="HTML Preformatted")
    d.add_paragraph("\treturn  1", style="HTML Preformatted")
    d.add_paragraph("", style="HTML Preformatted")
    d.add_paragraph("# end", style="HTML Preformatted")
    d.add_paragraph("Between")
    d.add_paragraph("x = 1", style="Source Code")
    p = d.add_paragraph("Run ")
    p.add_run("for x", style="Verbatim Char")
    doc = read_document(saved(d), "code.docx")
    assert doc.blocks == [Paragraph([Span("Before")]),
                          Code(["def f():", "\treturn  1", "", "# end"]),
                          Paragraph([Span("Between")]), Code(["x = 1"]),
                          Paragraph([Span("Run "), Span("for x", NO_CONTRACT)])]


@pytest.mark.parametrize("name, data", [
    ("c.md", b"Loop:\n\n```\nfor item in items:\n    print(item)\n```\n"),
    ("c.html", b"<p>Loop:</p><pre>for item in items:\n    print(item)</pre>"),
])
def test_code_is_uncontracted_in_braille(engine, name, data):
    # UEB 10.12: in code "for" is spelled out (⠋⠕⠗), never the contraction ⠿; its print
    # indentation is kept (one cell a column, relative to the listing)
    out = rows(engine, data, name)
    line = next(r for r in out if r.startswith(FOR_SPELLED))
    assert FOR_CONTRACTED not in line
    # "print" spelled p-r-i-n-t (contracted it would be ⠏⠗⠔⠞), four cells in as in print
    assert any(r.startswith("\u2800" * 4 + "\u280f\u2817\u280a\u281d\u281e") for r in out)


# --- superscripts and subscripts (UEB 3.24, 11.4: level indicators) ---------------------------

def test_html_sup_sub_keep_emphasis():
    doc = html("<p>E = mc<sup>2</sup>, <b>H<sub>2</sub>O</b></p>")
    assert doc.blocks[0].content == [Span("E = mc"), Span("2", SUPERSCRIPT), Span(", "),
                                     Span("H", BOLD), Span("2", BOLD | SUBSCRIPT),
                                     Span("O", BOLD)]


def test_html_footnote_reference_marks_are_superscripts():
    # defect: "word<sup><a>1</a></sup>" read as "word1"; pandoc/DPUB marks without <sup> too;
    # the back-link arrow of a note is screen navigation and is not read
    doc = html('<p>One<sup><a href="#fn1">1</a></sup> two<a class="footnote-ref" '
               'href="#fn2">2</a> three<a role="doc-noteref" href="#fn3"><sup>3</sup></a>.</p>'
               '<ol><li id="fn1"><p>Note. <a href="#r1" class="footnote-back" '
               'role="doc-backlink">\u21a9\ufe0e</a></p></li></ol>')
    assert doc.blocks[0].content == [Span("One"), Span("1", SUPERSCRIPT), Span(" two"),
                                     Span("2", SUPERSCRIPT), Span(" three"),
                                     Span("3", SUPERSCRIPT), Span(".")]
    assert doc.blocks[1] == ListItem(0, [Span("Note.")], "1.")


def test_markdown_inline_html_sup_sub_del_code_kbd():
    doc = md("x<sup>2</sup> H<sub>2</sub>O <del>old</del> <s>s</s> <code>c</code> <kbd>k</kbd>")
    marked = [(s.text, s.emphasis) for s in spans(doc.blocks) if s.emphasis]
    assert marked == [("2", SUPERSCRIPT), ("2", SUBSCRIPT), ("old", STRIKE), ("s", STRIKE),
                      ("c", NO_CONTRACT), ("k", NO_CONTRACT)]


def test_docx_raised_and_lowered_runs():
    # Word's w:vertAlign, direct or from a character style (Footnote Reference is one)
    d = docx.Document()
    raised = d.styles.add_style("Raised", WD_STYLE_TYPE.CHARACTER)
    raised.font.superscript = True
    p = d.add_paragraph("mc")
    p.add_run("2").font.superscript = True
    p.add_run(" H")
    p.add_run("2").font.subscript = True
    p.add_run("O note")
    p.add_run("4", style="Raised")
    bold = p.add_run("b")
    bold.bold = True
    bold.font.superscript = True
    doc = read_document(saved(d), "sup.docx")
    assert doc.blocks[0].content == [Span("mc"), Span("2", SUPERSCRIPT), Span(" H"),
                                     Span("2", SUBSCRIPT), Span("O note"),
                                     Span("4", SUPERSCRIPT), Span("b", BOLD | SUPERSCRIPT)]


@pytest.mark.parametrize("name, data", [
    ("s.html", b"<p>E = mc<sup>2</sup> and H<sub>2</sub>O</p>"),
    ("s.md", b"E = mc<sup>2</sup> and H<sub>2</sub>O"),
])
def test_superscript_and_subscript_in_braille(engine, name, data):
    # UEB 3.24: ⠔ raises, ⠢ lowers, each after the grade 1 indicator in contracted text
    text = "".join(rows(engine, data, name))
    assert SUPERSCRIPT_SIGN + "\u283c\u2803" in text  # ⠰⠔⠼⠃
    assert SUBSCRIPT_SIGN + "\u283c\u2803" in text


# --- crossed-out text (UEB 9.5: a transcriber-defined typeform) ------------------------------

def test_strike_in_html_markdown_and_docx():
    assert [s for s in spans(html("<p><del>a</del> <s>b</s> <strike><i>c</i></strike></p>")
                             .blocks) if s.emphasis] == [
        Span("a", STRIKE), Span("b", STRIKE), Span("c", STRIKE | ITALIC)]
    assert md("keep ~~gone~~").blocks[0].content == [Span("keep "), Span("gone", STRIKE)]
    d = docx.Document()
    p = d.add_paragraph("keep ")
    p.add_run("single").font.strike = True
    p.add_run(" ")
    p.add_run("double").font.double_strike = True
    # a tracked deletion is not print text: it stays out (unlike strike-through formatting)
    p._p.append(parse_xml(f'<w:del {W_NS} w:id="9" w:author="a"><w:r><w:delText>deleted'
                          f'</w:delText></w:r></w:del>'))
    doc = read_document(saved(d), "strike.docx")
    assert doc.blocks == [Paragraph([Span("keep "), Span("single", STRIKE), Span(" "),
                                     Span("double", STRIKE)])]


def test_strike_in_braille(engine):
    out = rows(engine, b"Price ~~ten~~ five", "s.md")
    body = [r for r in out if braille_of(engine, "Price")[:3] in r]
    assert body and STRIKE_SIGN in body[0]


# --- <q> quotations: the marks a browser draws (UEB 7.6) --------------------------------------

def test_q_gets_quotation_marks():
    # defect: the quotation marks of <q> were lost
    assert plain_text(html("<p>She said <q>go <q>now</q> please</q>.</p>").blocks[0].content) \
        == "She said \u201cgo \u2018now\u2019 please\u201d."
    assert plain_text(md("She said <q>go <q>now</q></q>.").blocks[0].content) \
        == "She said \u201cgo \u2018now\u2019\u201d."


def test_q_in_braille_reads_as_typed_quotes(engine):
    quoted = rows(engine, b"<p>She said <q>go <q>now</q></q>.</p>", "q.html")
    typed = rows(engine, "She said \u201cgo \u2018now\u2019\u201d.".encode(), "q.txt")
    assert quoted == typed


# --- horizontal rules (BANA: a break in context is a blank line) ------------------------------

def test_rules_in_html_and_markdown():
    assert [type(b) for b in html("<p>a</p><hr><p>b</p>").blocks] == [Paragraph, Rule, Paragraph]
    assert [type(b) for b in md("a\n\n---\n\nb\n\n***\n\nc").blocks] == [
        Paragraph, Rule, Paragraph, Rule, Paragraph]


def test_docx_horizontal_lines():
    # an empty paragraph with a bottom border (Word's --- autoformat) and Word's VML
    # "Horizontal Line" are rules; a boxed paragraph or a bordered paragraph with text is not
    d = docx.Document()
    d.add_paragraph("a")
    line = d.add_paragraph()
    line._p.get_or_add_pPr().append(parse_xml(
        f'<w:pBdr {W_NS}><w:bottom w:val="single" w:sz="6" w:space="1" w:color="auto"/>'
        '</w:pBdr>'))
    d.add_paragraph("b")
    d.add_paragraph().add_run()._r.append(parse_xml(
        f'<w:pict {VML_NS}><v:rect o:hralign="center" o:hrstd="t" o:hr="t" fillcolor="#a0a0a0"'
        ' stroked="f" style="width:0;height:1.5pt"/></w:pict>'))
    d.add_paragraph("c")
    box = d.add_paragraph()
    box._p.get_or_add_pPr().append(parse_xml(
        f'<w:pBdr {W_NS}><w:top w:val="single"/><w:left w:val="single"/>'
        '<w:bottom w:val="single"/><w:right w:val="single"/></w:pBdr>'))
    titled = d.add_paragraph("d")
    titled._p.get_or_add_pPr().append(parse_xml(
        f'<w:pBdr {W_NS}><w:bottom w:val="single"/></w:pBdr>'))
    doc = read_document(saved(d), "rule.docx")
    assert dump(doc).splitlines() == ["paragraph: a", "rule", "paragraph: b", "rule",
                                      "paragraph: c", "paragraph: d"]


def test_rule_is_a_blank_line_in_braille(engine):
    with_rule = rows(engine, b"<p>one</p><hr><p>two</p>", "r.html")
    without = rows(engine, b"<p>one</p><p>two</p>", "r.html")
    first = with_rule.index(next(r for r in with_rule if r.strip("\u2800")))
    assert not with_rule[first + 1].strip("\u2800") and with_rule[first + 2].strip("\u2800")
    assert without[first + 1].strip("\u2800")


# --- tables (BANA §11: every cell, spans and headings known to the listed format) -------------

def test_html_table_spans_headers_and_empty_cells():
    doc = html('<table><thead><tr><th colspan="2">Name</th><th rowspan="x">Age</th></tr></thead>'
               '<tbody><tr><th scope="row">Ann</th><td></td><td rowspan="2">30</td></tr>'
               '<tr><td colspan="2px">both</td></tr>'
               '<tr><td colspan="0">z</td><td rowspan="99999">r</td></tr></tbody></table>')
    table = doc.blocks[0]
    assert table.header_rows == 1
    assert table.rows == [
        [Cell([Span("Name")], 2, 1, True), Cell([Span("Age")], 1, 1, True)],
        [Cell([Span("Ann")], header=True), Cell([]), Cell([Span("30")], 1, 2)],
        [Cell([Span("both")], 2)],
        [Cell([Span("z")]), Cell([Span("r")], 1, 1000)]]


def test_html_cell_blocks_are_kept_inline():
    # BANA §11 listed format: a cell's content is one entry; code in it stays uncontracted, an
    # ordered list keeps its numbers, a table inside a cell keeps its text (it was lost)
    doc = html("<table><tr><td><pre>a  b\nc</pre></td><td><ol><li>x</li><li>y</li></ol></td>"
               "<td><table><tr><td>n1</td><td>n2</td></tr><tr><td>n3</td></tr></table></td>"
               "</tr></table>")
    assert doc.blocks[0].rows == [[Cell([Span("a b c", NO_CONTRACT)]),
                                   Cell([Span("1. x 2. y")]), Cell([Span("n1, n2; n3")])]]


def test_docx_table_merges_and_header_rows():
    # python-docx repeats a merged cell in row.cells; Word's grid has one cell per w:tc
    d = docx.Document()
    t = d.add_table(rows=4, cols=3)
    for c, text in enumerate(["Item", "Qty", "Note"]):
        t.cell(0, c).paragraphs[0].add_run(text).bold = True
    wide = t.cell(1, 0).merge(t.cell(1, 1))
    wide.text = "wide"
    tall = t.cell(1, 2).merge(t.cell(3, 2))
    tall.text = "tall"
    t.cell(2, 0).text, t.cell(2, 1).text = "a", "1"
    t.cell(3, 0).text = "b"  # (3, 1) left empty: still a cell
    doc = read_document(saved(d), "t.docx")
    table = doc.blocks[0]
    assert table.header_rows == 1  # a first row all in bold: its bold is heading styling
    assert table.rows == [
        [Cell([Span("Item")], header=True), Cell([Span("Qty")], header=True),
         Cell([Span("Note")], header=True)],
        [Cell([Span("wide")], 2), Cell([Span("tall")], 1, 3)],
        [Cell([Span("a")]), Cell([Span("1")])],
        [Cell([Span("b")]), Cell([])]]


def test_docx_marked_header_rows_keep_other_flags():
    d = docx.Document()
    t = d.add_table(rows=3, cols=2)
    for r in (0, 1):
        t.rows[r]._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {W_NS}/>'))
    t.cell(0, 0).text = "Area"
    p = t.cell(0, 1).paragraphs[0]
    p.add_run("m").italic = True
    p.add_run("2").font.superscript = True
    t.cell(1, 0).text, t.cell(1, 1).text = "sub", "head"
    t.cell(2, 0).text, t.cell(2, 1).text = "x", "y"
    table = read_document(saved(d), "h.docx").blocks[0]
    assert table.header_rows == 2
    assert table.rows[0][1] == Cell([Span("m"), Span("2", SUPERSCRIPT)], header=True)


def test_markdown_table_header_emphasis_is_styling():
    # the listed format repeats column headings on every row: a bold heading would repeat
    # its bold indicator each time, for what is only heading typography
    doc = md("| **Name** | *Age* |\n|---|---|\n| **Ann** | |\n\n"
             "| **Name** | Age |\n|---|---|\n| a | 2 |\n")
    first, second = doc.blocks
    assert first.header_rows == 1
    assert first.rows == [[Cell([Span("Name")], header=True), Cell([Span("Age")], header=True)],
                          [Cell([Span("Ann", BOLD)]), Cell([])]]
    assert second.rows[0][0] == Cell([Span("Name", BOLD)], header=True)  # not all emphasised


def test_table_spans_in_braille(engine):
    # BANA §11 listed format: each entry after its column heading; a spanning heading labels
    # both columns; an empty cell is stated (a dash)
    data = (b"<table><tr><th>Day</th><th colspan=2>Hours</th></tr>"
            b"<tr><td>Mon</td><td>9</td><td></td></tr></table>")
    out = [r.strip("\u2800") for r in rows(engine, data, "t.html")]
    assert braille_of(engine, "Day: Mon; Hours: 9; Hours: \u2014") in out


# --- images: descriptions are transcriber's notes (BANA Formats §3, image descriptions) -------

def test_html_and_markdown_image_alt_text_is_a_transcribers_note():
    doc = html('<p>Door: <img src="d.jpg" alt="A  green door">. <img src="s.gif" alt=""></p>')
    assert doc.blocks[0].content == [Span("Door: "), Span("image: A green door", TRANSNOTE),
                                     Span(".")]
    doc = md('See ![A cat](c.png) and ![](d.png) <img src="x" alt="Tom &amp; Jerry">')
    assert doc.blocks[0].content == [Span("See "), Span("image: A cat", TRANSNOTE),
                                     Span(" and "), Span("image: Tom & Jerry", TRANSNOTE)]


def test_docx_pictures_alt_text_title_and_bare():
    d = docx.Document()
    described = d.add_paragraph("Chart ").add_run()
    described.add_picture(io.BytesIO(png()))
    described._r.xpath(".//wp:docPr")[0].set("descr", "Sales rose in May")
    titled = d.add_paragraph().add_run()
    titled.add_picture(io.BytesIO(png()))
    titled._r.xpath(".//wp:docPr")[0].set("title", "Logo")
    d.add_paragraph().add_run().add_picture(io.BytesIO(png()))  # alone, no alt text
    with_text = d.add_paragraph("Text beside ")
    with_text.add_run().add_picture(io.BytesIO(png()))  # no alt text, not alone: nothing
    decorative = d.add_paragraph().add_run()
    decorative.add_picture(io.BytesIO(png()))
    decorative._r.xpath(".//wp:docPr")[0].append(parse_xml(
        '<a:extLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:ext '
        'uri="{C183D7F6-B498-43B3-948B-1728B52AA6E4}"><adec:decorative xmlns:adec="http://'
        'schemas.microsoft.com/office/drawing/2017/decorative" val="1"/></a:ext></a:extLst>'))
    d.add_paragraph().add_run()._r.append(parse_xml(
        f'<w:pict {VML_NS}><v:shape style="width:9pt;height:9pt" alt="Old picture">'
        '<v:imagedata o:title=""/></v:shape></w:pict>'))
    doc = read_document(saved(d), "pictures.docx")
    assert doc.blocks == [
        Paragraph([Span("Chart "), Span("image: Sales rose in May", TRANSNOTE)]),
        Paragraph([Span("image: Logo", TRANSNOTE)]),
        Paragraph([Span("image", TRANSNOTE)]),
        Paragraph([Span("Text beside")]),
        Paragraph([Span("image: Old picture", TRANSNOTE)])]


def test_image_note_in_braille(engine):
    text = "".join(rows(engine, b'<p>The door <img alt="painted green"> opens.</p>', "i.html"))
    assert NOTE_OPEN + braille_of(engine, "image: painted green") + NOTE_CLOSE in text


# --- Word's hard page breaks ------------------------------------------------------------------

def test_docx_page_break_ends_the_paragraph():
    # defect: "end<page break>Start" read as the one word "endStart"; print page numbers come
    # from EPUB page markers only, so no PageBreak block; lastRenderedPageBreak is where Word
    # last laid out a page, nothing in the document
    d = docx.Document()
    p = d.add_paragraph("the end")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("Chapter two")
    p = d.add_paragraph("ba")
    p.add_run()._r.append(parse_xml(f"<w:lastRenderedPageBreak {W_NS}/>"))
    p.add_run("ll")
    item = d.add_paragraph("first", style="List Bullet")
    item.add_run().add_break(WD_BREAK.PAGE)
    item.add_run("rest")
    h = d.add_heading("Part", level=1)
    h.add_run().add_break(WD_BREAK.PAGE)
    h.add_run("One")
    doc = read_document(saved(d), "pages.docx")
    assert not any(isinstance(b, PageBreak) for b in doc.blocks)
    assert doc.blocks == [Paragraph([Span("the end")]), Paragraph([Span("Chapter two")]),
                          Paragraph([Span("ball")]),
                          ListItem(0, [Span("first")], ""), ListItem(0, [Span("rest")], "", True),
                          Heading(1, [Span("Part One")])]


def test_page_break_keeps_words_apart_in_braille(engine):
    d = docx.Document()
    p = d.add_paragraph("end")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("start")
    out = [r.strip("\u2800") for r in rows(engine, saved(d), "p.docx")]
    assert braille_of(engine, "end") in out and braille_of(engine, "start") in out


# --- Markdown footnotes -----------------------------------------------------------------------

FOOTNOTES = ("Seeds[^keep] last for years[^2].\n\nMore text.\n\n"
             "[^keep]: If kept *dry*.\n[^2]: See the table.\n\n    A second paragraph.\n")


def test_markdown_footnotes():
    doc = md(FOOTNOTES)
    assert "[^" not in dump(doc)
    assert doc.blocks[0].content == [Span("Seeds"), Span("1", SUPERSCRIPT),
                                     Span(" last for years"), Span("2", SUPERSCRIPT), Span(".")]
    assert doc.blocks[1:] == [Paragraph([Span("More text.")]), Rule(),
                              Paragraph([Span("1. If kept "), Span("dry", ITALIC), Span(".")]),
                              Paragraph([Span("2. See the table.")]),
                              Paragraph([Span("A second paragraph.")])]


def test_markdown_footnotes_in_braille(engine):
    text = "".join(rows(engine, FOOTNOTES.encode(), "f.md"))
    assert SUPERSCRIPT_SIGN + "\u283c\u2801" in text  # ⠰⠔⠼⠁
    assert "\u2818\u2828" not in text and "[^" not in text
    assert braille_of(engine, "1. If kept")[:6] in text
