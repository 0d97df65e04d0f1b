"""One very long line (no line breaks at all): read and laid out whole, every cell in place.

A document may be one line of megabytes: a text export without newlines, a minified HTML page,
one long number. Its time against its length is measured by ``bench/long_lines.py`` (timing does
not belong in tests on shared machines); here the output of such lines is checked: nothing lost,
nothing out of order, no braille line over the width. The engine's long lines are covered by
test_engine_long_lines.py.
"""

from __future__ import annotations

import random

import pytest

from braillejobs.formats import RenderOptions, prepare
from braillejobs.formats.brf import write_brf

SIZE = 300_000


def words(n: int) -> str:
    rng = random.Random(n)
    vocabulary = "the Lighthouse keeper wrote 42 letters and 3.5 poems about The SEA".split()
    out, size = [], 0
    while size < n:
        out.append(rng.choice(vocabulary))
        size += len(out[-1]) + 1
    return " ".join(out)[:n]


def token(n: int) -> str:
    return ("1234567890" * (n // 10 + 1))[:n]


def braille_words(n: int) -> str:
    rng = random.Random(n)
    # no dot 5 (U+2810), the sign that ends each full line of a token divided without its print
    cells = [chr(rng.choice([c for c in range(0x2801, 0x2840) if c != 0x2810])) *
             rng.randint(1, 9) for _ in range(64)]
    out, size = [], 0
    while size < n:
        out.append(cells[rng.randrange(64)])
        size += len(out[-1]) + 1
    return "\u2800".join(out)[:n].strip("\u2800")


def braille_token(n: int) -> str:
    return ("\u2801\u2803\u2809\u2819\u2811\u280b\u281b\u2813\u280a\u281a" * (n // 10 + 1))[:n]


@pytest.mark.parametrize("make", [braille_words, braille_token], ids=["words", "token"])
def test_one_long_line_is_laid_out_whole(make):
    from braillejobs.formats.flow import Unit
    from braillejobs.formats.divide import CONTINUATION
    from braillejobs.formats.layout import BLANK, number_cells, paginate

    braille = make(SIZE)
    pages = paginate([Unit("paragraph", 0, 2, 0)], [braille], width=40, length=25)
    assert all(len(row) <= 40 for page in pages for row in page.rows)
    rows = []
    for page in pages:  # the text without the braille page number at the foot of each page
        number = number_cells(str(page.number))
        assert page.rows[-1].endswith(BLANK + number)
        rows += page.rows[:-1] + [page.rows[-1][:-len(number)].rstrip(BLANK)]
    # the rows, read in order, hold every cell of the line and the signs of its divisions
    rows = [row[:-1] if row.endswith(CONTINUATION) else row for row in rows]
    assert "".join(rows).replace(BLANK, "") == braille.replace(BLANK, "")
    words_laid = BLANK.join(row.strip(BLANK) for row in rows if row.strip(BLANK)).split(BLANK)
    if BLANK in braille:  # words shorter than a line are never divided
        assert words_laid == braille.split(BLANK)
    assert write_brf(pages).count(b"\f") + 1 == len(pages)  # a form feed between pages


@pytest.mark.parametrize("name, wrap", [("long.txt", "{}"), ("long.md", "{}"),
                                        ("long.html", "<p>{}</p>"),
                                        ("long.xhtml", '<html xmlns="http://www.w3.org/1999/'
                                                       'xhtml"><body><p>{}</p></body></html>')])
@pytest.mark.parametrize("make", [words, token], ids=["words", "token"])
def test_one_long_line_is_read_whole(name, wrap, make):
    text = make(SIZE)
    prepared = prepare(wrap.format(text).encode(), name, RenderOptions(format="brf"))
    assert " ".join(prepared.lines).split() == text.split()


def test_emphasised_long_line_keeps_its_emphasis():
    rng = random.Random(3)
    parts = words(SIZE // 4).split(" ")
    marked = [rng.random() < 0.2 for _ in parts]
    source = " ".join(f"*{w}*" if m else w for w, m in zip(parts, marked))
    prepared = prepare(source.encode(), "long.md", RenderOptions(format="brf"))
    [line], [typeform] = prepared.lines, prepared.typeforms
    assert line.split() == parts
    pos = 0
    for w, m in zip(parts, marked):
        pos = line.index(w, pos)
        assert bool(typeform[pos]) == m, w
        pos += len(w)


def test_long_word_without_its_print_starts_a_line_and_continues():
    """BANA §1.10: a word longer than a line starts on a new line; with no print to find its
    signs each full line ends with dot 5 (test_division.py divides real words)."""
    from braillejobs.formats.divide import CONTINUATION
    from braillejobs.formats.flow import Unit
    from braillejobs.formats.layout import paginate

    word = braille_token(95)
    pages = paginate([Unit("paragraph", 0, 2, 0)], ["\u2801\u2800" + word + "\u2800\u2803"],
                     width=40, length=25)
    rows = [r for r in pages[0].rows if r]
    assert rows[0] == "\u2800\u2800\u2801"  # the long word does not fit after it: next line
    assert rows[1] == word[:39] + CONTINUATION and rows[2] == word[39:78] + CONTINUATION
    assert rows[3] == word[78:] + "\u2800\u2803"
