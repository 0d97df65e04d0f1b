"""Property tests of the layout invariants, on generated documents, with the liblouis engine.

For any document and any page geometry: no BRF line is longer than the line width; every page
has exactly the page length; every page but the last ends in a form feed; braille page numbers
run 1, 2, 3 ...; print page numbers appear in document order; the page change indicator is never
on the first or last line; and back-translating the body recovers the words in order.
"""

from __future__ import annotations

import re

import louis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braillejobs.formats import DocumentError, RenderOptions, finish, prepare
from braillejobs.formats.blocks import (BOLD, ITALIC, BlockQuote, Document, Heading, ListItem,
                                        PageBreak, Paragraph, Span)
from braillejobs.formats.brf import to_brf, write_brf
from braillejobs.formats.flow import plan
from braillejobs.formats.layout import BLANK, DOTS36, paginate

from tests.formats.helpers import brf_pages, translate

TABLE = ["en-ueb-g2.ctb"]
CANDIDATES = ("river stone garden window paper silver orange market winter basket candle "
              "forest ladder pocket rabbit violin lemon tiger planet copper meadow harbor "
              "pencil quiet bright slow green cold small round early late simple open "
              "walk carry build paint listen travel gather follow").split()


def back_translate(cells: str) -> str:
    """Print text for Unicode braille, by liblouis (which reads ASCII braille here)."""
    return louis.backTranslateString(TABLE, to_brf(cells).lower())


def _round_trips(word: str) -> bool:
    return back_translate(louis.translateString(TABLE, word, mode=louis.dotsIO | louis.ucBrl)) \
        == word


VOCABULARY = [w for w in CANDIDATES if _round_trips(w)]
assert len(VOCABULARY) > 30, VOCABULARY

words = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=40)


@st.composite
def content(draw):
    spans = []
    for w in draw(words):
        spans.append(Span(w + " ", draw(st.sampled_from([0, 0, 0, ITALIC, BOLD]))))
    return spans


@st.composite
def documents(draw):
    blocks = []
    page = 0
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["p", "p", "h", "li", "page", "quote"]))
        if kind == "p":
            blocks.append(Paragraph(draw(content())))
        elif kind == "h":
            blocks.append(Heading(draw(st.integers(1, 4)), draw(content())))
        elif kind == "li":
            blocks.append(ListItem(draw(st.integers(0, 3)), draw(content())))
        elif kind == "quote":
            blocks.append(BlockQuote([Paragraph(draw(content()))]))
        else:
            page += draw(st.integers(1, 3))
            blocks.append(PageBreak(str(page)))
    return Document(blocks)


def words_of(document: Document) -> list[str]:
    out = []

    def walk(blocks):
        for b in blocks:
            if isinstance(b, BlockQuote):
                walk(b.blocks)
            elif not isinstance(b, PageBreak):
                out.extend(w for s in b.content for w in s.text.split())
    walk(document.blocks)
    return out


def number(n: int) -> str:
    return "#" + "".join("JABCDEFGHI"[int(d)] for d in str(n))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents(), width=st.integers(16, 60), length=st.integers(3, 30))
def test_layout_invariants(engine, document, width, length):
    p = plan(document)
    braille = translate(engine, p.lines, p.typeforms)
    pages = paginate(p.units, braille, width, length)
    content = write_brf(pages)
    split = brf_pages(content)

    assert content.count(b"\f") == len(pages) - 1
    for n, (page, lines) in enumerate(zip(pages, split), start=1):
        assert len(lines) == length  # no page longer (or shorter) than the page length
        assert all(len(line) <= width for line in lines)  # no line longer than the width
        assert lines[-1].endswith(number(n)) and page.number == n  # numbers 1, 2, 3 ...
        assert not page.rows[-1].startswith(DOTS36 * 3)
        assert not page.rows[0].startswith(DOTS36 * 3)

    # print page numbers, from first lines and indicator lines, come in document order
    expected = [b.number for b in document.blocks if isinstance(b, PageBreak)]
    seen: list[str] = []
    for page, lines in zip(pages, split):
        if page.print_label:
            label = to_brf(page.print_label)
            m = re.fullmatch(r"([A-Z]*)#([A-J]+)", label)
            assert m, label
            value = "".join(str("JABCDEFGHI".index(c)) for c in m.group(2))
            if not m.group(1) and (not seen or seen[-1] != value):
                seen.append(value)
        for line in lines:
            m = re.fullmatch(r"-+#([A-J]+)", line)
            if m:
                seen.append("".join(str("JABCDEFGHI".index(c)) for c in m.group(1)))
    remaining = iter(expected)
    assert all(any(n == e for e in remaining) for n in seen), (seen, expected)  # in order
    first_break = next((i for i, b in enumerate(document.blocks) if isinstance(b, PageBreak)),
                       None)
    if first_break is not None and any(not isinstance(b, PageBreak)
                                       for b in document.blocks[first_break:]):
        assert seen  # a print page with text on it is shown

    # the body, back-translated, gives the words in order
    body = []
    for page in pages:
        rows = list(page.rows)
        if page.print_label:
            rows[0] = rows[0][: len(rows[0]) - len(page.print_label)]
        bnum = len(number(page.number))
        rows[-1] = rows[-1][: len(rows[-1]) - bnum]
        for row in rows:
            if row.strip(BLANK) and not row.startswith(DOTS36 * 3):
                body.append(row.strip(BLANK))
    # liblouis does not back-translate UEB emphasis indicators; the vocabulary has no cells that
    # could be confused with them, so they are removed before back-translating
    text = back_translate(re.sub("[⠨⠘⠸][⠂⠆⠶⠄]", "", BLANK.join(body)))
    assert text.split() == words_of(document)


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                                         exclude_characters="\x00"),
                    max_size=300),
       width=st.integers(10, 50), length=st.integers(3, 12),
       fmt=st.sampled_from(["brf", "unicode", "pef"]))
def test_any_text_renders_within_the_geometry(engine, text, width, length, fmt):
    options = RenderOptions(format=fmt, cells_per_line=width, lines_per_page=length)
    prepared = prepare(text.encode("utf-8"), "any.txt", options)
    assert all("\n" not in line and "\r" not in line for line in prepared.lines)
    out = finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
    if fmt == "brf":
        pages = brf_pages(out.content)
        assert all(len(p) == length and all(len(line) <= width for line in p) for p in pages)


MARKUP = st.lists(st.sampled_from(list("ab cd\n\n#*_->|`[]()!1.<>/=\"'&;") + [
    "<p>", "</p>", "<em>", "</em>", "<b>", "<br>", "<ul>", "<li>", "</li>", "</ul>", "<table>",
    "<tr>", "<td>", "<th>", "</table>", "<h2>", "</h2>", "<blockquote>", "<img alt='x'>",
    "<span epub:type='pagebreak' title='3'/>", "&nbsp;", "&amp;", "<pre>", "</pre>",
    "\u00e9", "\u201c", "\t"]), max_size=200).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=MARKUP, name=st.sampled_from(["f.md", "f.html", "f.txt", "f.xhtml"]))
def test_readers_take_any_markup(engine, text, name):
    # anything a user can type is read without a crash (XHTML may be refused as malformed), and
    # laid out within the geometry
    try:
        prepared = prepare(text.encode("utf-8"), name, RenderOptions(format="brf"))
    except DocumentError as exc:
        assert name == "f.xhtml" and str(exc).startswith("f.xhtml: ")
        return
    assert all("\n" not in line for line in prepared.lines)
    if prepared.typeforms is not None:
        assert all(tf is None or len(tf) == len(line)
                   for tf, line in zip(prepared.typeforms, prepared.lines))
    out = finish(prepared, engine.translate_lines(prepared.lines, prepared.typeforms))
    assert all(len(p) == 25 and all(len(line) <= 40 for line in p)
               for p in brf_pages(out.content))
