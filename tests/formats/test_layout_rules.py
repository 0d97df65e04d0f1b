"""Braille formatting rules, each test citing the rule it checks.

BANA = *Braille Formats: Principles of Print-to-Braille Transcription*, 2016 (Braille Authority
of North America). Cells are numbered from 1 in the rule names (cell 3 = two blank cells before
the text), as in the rules.
"""

from __future__ import annotations

from braillejobs.formats.brf import from_brf
from braillejobs.formats.blocks import (BlockQuote, Heading, ListItem, PageBreak, PageMarker,
                                        Paragraph, Span, Table)
from braillejobs.formats.flow import heading_tiers
from braillejobs.formats.layout import BLANK, Paginator, continuation_letters, number_cells

from tests.formats.helpers import ascii_rows, lay_out

WORDS = ("the quick brown fox jumps over the lazy dog while seven small birds watch "
         "from a fence beside the road ").split()


def prose(n: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(n))


def P(text: str) -> Paragraph:
    return Paragraph([Span(text)])


def cell(row: str) -> int:
    """1-based cell of the first character of an ASCII braille row."""
    return len(row) - len(row.lstrip(" ")) + 1


def text_rows(rows: list[str]) -> list[str]:
    return [r for r in rows if r.strip()]


# --- headings, BANA §4 ------------------------------------------------------------------------

def test_heading_tiers_follow_levels_in_use():
    # BANA §4.2 heading hierarchy: the most important level used is centred, the next cell-5,
    # the next cell-7; the tiers depend on which print levels the document uses.
    assert heading_tiers({1}) == {1: 0}
    assert heading_tiers({2, 3}) == {2: 0, 3: 1}
    assert heading_tiers({1, 2, 3, 4}) == {1: 0, 2: 1, 3: 2, 4: 2}
    assert heading_tiers({0, 1}) == {0: 0, 1: 1}


def test_centred_heading_blank_line_before_and_after(engine):
    # BANA §4.4 centred headings: centred, with a blank line before and after; at least three
    # blank cells on each side of every line of the heading.
    pages = lay_out(engine, [P(prose(12)), Heading(1, [Span("Rivers and Roads")]), P(prose(8))])
    rows = ascii_rows(pages[0])
    i = next(n for n, r in enumerate(rows) if "RIV]S" in r)
    assert rows[i - 1] == "" and rows[i + 1] == ""
    text = rows[i].strip()
    left = rows[i].index(text)
    right = 40 - left - len(text)
    assert abs(left - right) <= 1 and left >= 3


def test_long_centred_heading_runs_over_centred_with_margins(engine):
    # BANA §4.4: each line of a long centred heading is centred with three blank cells or more at
    # both ends.
    title = "The Long and Winding History of the Northern Canal Company and Its Many Owners"
    pages = lay_out(engine, [Heading(1, [Span(title)]), P(prose(5))], width=32)
    rows = ascii_rows(pages[0])
    heading_rows = []
    for r in rows:
        if not r.strip():
            break
        heading_rows.append(r)
    assert len(heading_rows) >= 2
    for r in heading_rows:
        left = cell(r) - 1
        assert left >= 3 and 32 - len(r) >= 3


def test_cell5_heading_blank_before_none_after_runover_cell5(engine):
    # BANA §4.5 cell-5 headings: start in cell 5, runovers in cell 5, a blank line before and
    # none after.
    sub = "Second level heading that is long enough to need a runover line here"
    pages = lay_out(engine, [Heading(1, [Span("Top")]), P(prose(10)), Heading(2, [Span(sub)]),
                             P(prose(10))])
    rows = ascii_rows(pages[0])
    i = next(n for n, r in enumerate(rows) if r.startswith("    ,SECOND"))
    assert rows[i - 1] == ""
    assert cell(rows[i + 1]) == 5  # runover in cell 5
    assert cell(rows[i + 2]) == 3 and rows[i + 2].strip()  # the paragraph follows directly


def test_cell7_heading_no_blank_lines(engine):
    # BANA §4.6 cell-7 headings: start and run over in cell 7, no blank line before or after.
    pages = lay_out(engine, [Heading(1, [Span("A")]), Heading(2, [Span("B")]), P(prose(10)),
                             Heading(3, [Span("Third level")]), P(prose(10))])
    rows = ascii_rows(pages[0])
    i = next(n for n, r in enumerate(rows) if "?IRD" in r)
    assert cell(rows[i]) == 7
    assert rows[i - 1].strip() and rows[i + 1].strip()


def test_heading_kept_with_following_text(engine):
    # BANA §4.3: a heading is not the last text on a braille page; it moves to the next page with
    # the text that follows it.
    moved = 0
    for n in range(1, 16):
        filler = [P(prose(9)) for _ in range(n)]
        pages = lay_out(engine, filler + [Heading(1, [Span("Top")]),
                                          Heading(2, [Span("Moved heading")]), P(prose(30))],
                        length=10)
        for page in pages:
            rows = ascii_rows(page)
            texts = [r for r in rows[:-1] if r.strip()]
            last_row_text = rows[-1].rstrip()[:-3].strip()  # without the braille page number
            last = last_row_text or (texts[-1] if texts else "")
            assert ",MOV$" not in last, f"heading left at the foot of a page ({n} paragraphs)"
        heading_page = next(p for p in pages if any(",MOV$" in r for r in ascii_rows(p)))
        rows = ascii_rows(heading_page)
        if next(r for r in rows if r.strip()).strip().startswith((",MOV$", ",TOP")):
            moved += 1  # the heading, with the one right before it, opens a fresh page
    assert moved  # some filler lengths put the heading at the top of a fresh page


# --- paragraphs and lists, BANA §1.9 and §8 ---------------------------------------------------

def test_paragraph_3_1(engine):
    # BANA §1.9 paragraphs: first line in cell 3, runovers in cell 1.
    rows = text_rows(ascii_rows(lay_out(engine, [P(prose(30))])[0]))
    assert cell(rows[0]) == 3
    assert all(cell(r) == 1 for r in rows[1:-1])


def item_cells(rows: list[str], starts: list[str]) -> list[tuple[int, set[int]]]:
    """For each item (found by the ASCII braille its first row starts with): the cell of its
    first row and the cells of its runover rows."""
    text = [r for r in rows if r.strip()]
    index = [next(n for n, r in enumerate(text) if r.strip().startswith(s)) for s in starts]
    out = []
    for k, i in enumerate(index):
        end = index[k + 1] if k + 1 < len(index) else len(text)
        out.append((cell(text[i]), {cell(r) for r in text[i + 1:end]}))
    return out


LONG = prose(16)


def test_simple_list_1_3_with_blank_lines_around(engine):
    # BANA §8 lists: items in cell 1, runovers in cell 3; a blank line before and after the list.
    blocks = [P("delta"), ListItem(0, [Span("alpha " + LONG)]),
              ListItem(0, [Span("kappa " + LONG)]), P("zulu")]
    rows = ascii_rows(lay_out(engine, blocks)[0])
    assert rows[1] == "" and rows[2].startswith("ALPHA")
    assert item_cells(rows[:-1], ["ALPHA", "KAPPA"]) == [(1, {3}), (1, {3}), ]
    assert rows[rows.index("  ZULU") - 1] == ""


def test_nested_list_runovers_two_cells_right_of_deepest_level(engine):
    # BANA §8 nested lists: each level starts two cells further right and every runover is two
    # cells right of the deepest level of that list: two levels 1-5, 3-5.
    blocks = [ListItem(0, [Span("alpha " + LONG)]), ListItem(1, [Span("kappa " + LONG)]),
              ListItem(0, [Span("gamma " + LONG)])]
    rows = ascii_rows(lay_out(engine, blocks)[0])[:-1]
    assert item_cells(rows, ["ALPHA", "KAPPA", "GAMMA"]) == [(1, {5}), (3, {5}), (1, {5})]


def test_three_level_list_1_7_3_7_5_7(engine):
    # BANA §8: three levels: 1-7, 3-7, 5-7.
    blocks = [ListItem(0, [Span("alpha " + LONG)]), ListItem(1, [Span("kappa " + LONG)]),
              ListItem(2, [Span("gamma " + LONG)])]
    rows = ascii_rows(lay_out(engine, blocks)[0])[:-1]
    assert item_cells(rows, ["ALPHA", "KAPPA", "GAMMA"]) == [(1, {7}), (3, {7}), (5, {7})]


def test_ordered_list_keeps_its_numbers(engine):
    rows = text_rows(ascii_rows(lay_out(engine, [ListItem(0, [Span("first")], "1."),
                                                 ListItem(0, [Span("second")], "2.")])[0]))
    assert rows[0].startswith("#A4 ") and rows[1].startswith("#B4 ")


def test_block_quote_blank_lines_and_3_1(engine):
    # BANA displayed material: a blank line before and after; prose inside in 3-1.
    blocks = [P("delta"), BlockQuote([P("alpha " + LONG)]), P("zulu")]
    rows = ascii_rows(lay_out(engine, blocks)[0])
    assert rows[1] == "" and rows[2].startswith("  ALPHA")
    assert item_cells(rows[:-1], ["ALPHA", "ZULU"])[0] == (3, {1})
    assert rows[rows.index("  ZULU") - 1] == ""


def test_table_listed_format(engine):
    # BANA §11 listed table format: one row per entry in 1-3, every entry labelled with its
    # column heading (the first column's too), a blank line before and after; a transcriber's
    # note at the head of the document explains the format (BANA §11.2, §3.1).
    table = Table([[[Span("Day")], [Span("Opens")]], [[Span("Friday")], [Span("nine")]]], 1)
    rows = ascii_rows(lay_out(engine, [P(prose(4)), table, P(prose(4))])[0])
    assert rows[0].startswith("      @.<,TABLES >E SET")  # ⠈⠨⠣ in 7-5
    at = rows.index(',"D3 ,FRI"D2 ,OP5S3 N9E')
    assert rows[at - 1] == "" and rows[at + 1] == ""


# --- lines and pages, BANA §1.10, §1.11, §1.15 ------------------------------------------------

def test_words_never_divided_unless_longer_than_a_line():
    # BANA §1.10: words are not divided between lines; one longer than a line is divided.
    # With no print behind the braille to find its signs, each full line ends with the line
    # continuation indicator, dot 5 (test_division.py divides real words).
    pager = Paginator(12, 25)
    word = "\u2801" * 5
    pager.place(BLANK.join([word] * 5), 0, 0)
    pager.place("\u2803" * 30, 0, 0)
    rows = pager.finish()[0].rows
    assert rows[0] == BLANK.join([word] * 2) and rows[1] == BLANK.join([word] * 2)
    assert rows[2] == word
    assert rows[3:6] == ["\u2803" * 11 + "\u2810", "\u2803" * 11 + "\u2810", "\u2803" * 8]


def test_braille_page_number_on_last_line_right(engine):
    # BANA §1.15: the braille page number is at the right margin of the last line.
    pages = lay_out(engine, [P(prose(400))])
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        rows = ascii_rows(page)
        assert len(rows) == 25
        assert rows[-1].endswith(" " + to_ascii_number(n)) or rows[-1] == to_ascii_number(n)
        assert len(rows[-1]) == 40


def to_ascii_number(n: int) -> str:
    return "#" + "".join("JABCDEFGHI"[int(d)] for d in str(n))


def test_three_blank_cells_before_page_numbers(engine):
    # BANA §1.15 / §1.11: text on a numbered line stops three cells or more before the number.
    pages = lay_out(engine, [PageBreak("7"), P(prose(600))])
    for page in pages:
        for row in (ascii_rows(page)[0], ascii_rows(page)[-1]):
            text, _, number = row.rstrip().rpartition(" ")
            if text.strip():
                assert row.endswith("   " + number) or row[: -len(number)].endswith("   ")


def test_print_page_number_first_line_and_continuation_letters(engine):
    # BANA §1.11: the print page number is at the right margin of the first line; on later braille
    # pages of the same print page it is preceded by a, b, c ...
    pages = lay_out(engine, [PageBreak("12"), P(prose(700))])
    assert len(pages) >= 3
    firsts = [ascii_rows(p)[0] for p in pages]
    assert firsts[0].endswith("#AB") and not firsts[0].endswith("A#AB")
    assert firsts[1].endswith("A#AB") and firsts[2].endswith("B#AB")
    assert all(len(r) == 40 for r in firsts)


def test_continuation_letters_sequence():
    assert [continuation_letters(k) for k in (0, 1, 25, 26)] == ["\u2801", "\u2803", "\u2835",
                                                                   "\u2801\u2801"]


def test_print_page_change_indicator(engine):
    # BANA §1.11: where a print page begins inside a braille page, a line of dots 3-6 runs from
    # cell 1 to the new print page number at the right margin; no blank line next to it.
    blocks = [PageBreak("4"), P(prose(30)), Heading(1, [Span("Next")]), PageBreak("5"),
              P(prose(10))]
    rows = ascii_rows(lay_out(engine, blocks)[0])
    i = next(n for n, r in enumerate(rows) if r.startswith("---"))
    assert rows[i] == "-" * 38 + "#E"
    assert rows[i - 1].strip() and rows[i + 1].strip()


def test_page_change_inside_a_paragraph_continues_at_runover(engine):
    # BANA §1.11: the indicator interrupts the paragraph; the text after it goes on at the margin
    # where the paragraph's runovers are (cell 1), not as a new paragraph.
    para = Paragraph([Span(prose(12)), PageMarker("9"), Span(" " + prose(12))])
    rows = text_rows(ascii_rows(lay_out(engine, [para])[0]))
    i = next(n for n, r in enumerate(rows) if r.startswith("---"))
    assert rows[i].endswith("#I") and cell(rows[i + 1]) == 1


def test_page_change_never_on_last_line(engine):
    # BANA §1.11: the indicator is never on the last line; the new print page then starts the
    # next braille page and is shown by its first-line number only.
    length = 10
    seen_last_line_case = False
    for n_words in range(40, 140):
        pages = lay_out(engine, [PageBreak("1"), P(prose(n_words)), PageBreak("2"),
                                 P(prose(40))], length=length)
        for page in pages:
            rows = ascii_rows(page)
            assert not rows[-1].startswith("---") and not rows[0].startswith("---")
        first = ascii_rows(pages[0])
        if first[-2].strip() and not first[-1].rstrip()[:-2].strip():
            # the paragraph ended on the next-to-last line: the change would fall on the last
            seen_last_line_case = True
            assert not any(r.startswith("---") for r in first)
            assert ascii_rows(pages[1])[0].endswith("#B")
            assert not ascii_rows(pages[1])[0].endswith("A#B")
    assert seen_last_line_case


def test_no_blank_line_at_top_of_page(engine):
    # BANA: a blank line that falls at the top of a braille page is not brailled.
    blocks = [P(prose(8)) for _ in range(30)] + [Heading(1, [Span("Centre")]), P(prose(40))]
    for page in lay_out(engine, blocks, length=8):
        assert ascii_rows(page)[0].strip()


def test_number_cells():
    assert number_cells("12") == "\u283c\u2801\u2803"
    assert number_cells("xii") == "\u282d\u280a\u280a"
    assert number_cells("v") == "\u2830\u2827"  # a single letter takes the grade 1 indicator


def test_whole_heading_emphasis_is_not_shown_partial_is(engine):
    # BANA §4 headings: print emphasis that sets off a whole heading is shown by the braille
    # heading format, not by typeform indicators; emphasis of part of a heading is kept.
    from braillejobs.formats.blocks import BOLD, ITALIC, Document
    from braillejobs.formats.flow import plan

    p = plan(Document([Heading(1, [Span("All bold here", BOLD)]),
                       Heading(2, [Span("On "), Span("Walden", ITALIC)]),
                       Paragraph([Span("whole", BOLD)])]))
    assert p.typeforms[0] is None
    assert p.typeforms[1] == [0, 0, 0] + [ITALIC] * 6
    assert p.typeforms[2] == [BOLD] * 5


def test_no_braille_page_ends_with_a_heading(engine):
    # BANA §4.3: a heading is never the last text of a braille page; at least one line of what
    # follows it goes with it. Random documents of headings, lists, quotes, tables and prose,
    # so that headings fall on every row of a page.
    import random

    from braillejobs.formats import RenderOptions, render

    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda".split()
    checked = 0
    for seed in range(60):
        rng = random.Random(seed)
        heads, parts = set(), []
        for k in range(rng.randint(8, 30)):
            kind = rng.random()
            if kind < 0.3:
                heading = f"Heading {seed} {k}"
                heads.add(engine.translate_lines([heading])[0].braille)
                parts.append("#" * rng.randint(1, 3) + " " + heading)
            elif kind < 0.4:
                parts.append("\n".join("- " + " ".join(rng.choices(words, k=rng.randint(1, 12)))
                                       for _ in range(rng.randint(1, 4))))
            elif kind < 0.5:
                parts.append("> " + " ".join(rng.choices(words, k=rng.randint(3, 40))))
            elif kind < 0.55:
                parts.append("| A | B |\n|---|---|\n| alpha | beta |\n| gamma | delta |")
            else:
                parts.append(" ".join(rng.choices(words, k=rng.randint(3, 90))))
        content = render("\n\n".join(parts).encode(), "random.md", engine,
                         RenderOptions(format="brf")).content.decode("ascii")
        for page in content.split("\f")[:-1]:
            rows = [from_brf(r) for r in page.split("\r\n") if r]
            # the last row: the braille page number at the right, after three blank cells
            rows[-1] = rows[-1].rsplit("\u2800\u2800\u2800", 1)[0]
            text = [r.strip("\u2800") for r in rows if r.strip("\u2800")]
            assert text and text[-1] not in heads, (seed, text[-3:])
            checked += 1
    assert checked > 100


def test_a_cell_under_one_spanning_heading_names_it_once(engine):
    # BANA §11 listed format: each entry after its column heading; columns that share one
    # spanning heading share its name, so a cell across them is not "Hours and Hours".
    from braillejobs.formats.blocks import Cell, Table

    table = Table([[Cell([Span("Day")], header=True), Cell([Span("Hours")], colspan=2,
                                                           header=True)],
                   [Cell([Span("Sunday")]), Cell([Span("closed")], colspan=2)]], 1)
    rows = ascii_rows(lay_out(engine, [table])[0])
    assert ',"D3 ,SUN"D2 ,H\\RS3 CLOS$' in rows
