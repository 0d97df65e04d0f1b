"""The novel-word check: a word a model wrote that its training never showed it written that way
goes to liblouis where liblouis writes it otherwise, on the shipped models and real liblouis."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from braillejobs.translate import novel
from braillejobs.translate.capitals import text_roles, token_roles
from braillejobs.translate.louis_engine import LouisEngine
from braillejobs.translate.neural import NeuralEngine, build_engine, load_familiar, load_tagger

G2 = "en-ueb-g2.ctb"
# the table's whole-word and word-start entries for plain lower-case words: words where UEB
# forbids the contraction the regular pattern would use (``sufword tearoom``)
_ENTRY = re.compile(r"(sufword|word)\s+([a-z]{6,})\s+[0-9-]+\s*(#.*)?")
FORMS = ("We saw the {w} there.", "{C} was next.", "THE {U} IS HERE.", "({w}),")


def _table_file(name: str) -> Path:
    for folder in [*filter(None, os.environ.get("LOUIS_TABLEPATH", "").split(",")),
                   "/usr/share/liblouis/tables"]:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    pytest.fail(f"{name} not found in LOUIS_TABLEPATH or /usr/share/liblouis/tables: install "
                "liblouis-data (scripts/setup.sh)")


def _irregular_words() -> list[str]:
    text = _table_file(G2).read_text(encoding="utf-8")
    return sorted({m.group(2) for line in text.splitlines()
                   if (m := _ENTRY.fullmatch(line.strip()))})


@pytest.fixture(scope="module")
def auto():
    return build_engine("auto", G2)


@pytest.fixture(scope="module")
def irregular_lines():
    words = _irregular_words()
    assert len(words) > 200
    return [form.format(w=w, C=w.capitalize(), U=w.upper()) for w in words for form in FORMS]


def test_context_free_drops_only_the_cells_neighbours_decide():
    # capital indicators and the capitals terminator, where the word is capitalised
    assert novel.context_free("HELLO,", "⠠⠠⠓⠑⠇⠇⠕⠂⠠⠄") == "⠓⠑⠇⠇⠕⠂"
    assert novel.context_free("A", "⠁⠠⠄") == "⠁"
    # a word of mixed case is written the same wherever it stands: every cell counts
    assert novel.context_free("Tom", "⠠⠞⠕⠍") == "⠠⠞⠕⠍"
    assert novel.context_free("McDonald", "⠠⠍⠉⠠⠙⠕⠝⠁⠇⠙") == "⠠⠍⠉⠠⠙⠕⠝⠁⠇⠙"
    # a word without capitals keeps every cell: ⠠ there belongs to a symbol
    assert novel.context_free("o'er", "⠕⠠⠄⠻") == "⠕⠠⠄⠻"
    # the numeric indicator, where the word holds a digit, and only there
    assert novel.context_free("1586", "⠼⠁⠑⠓⠋") == "⠁⠑⠓⠋"
    assert novel.context_free("#x", "⠼⠭") == "⠼⠭"


def test_the_tables_irregular_words_come_out_as_liblouis_writes_them(auto, irregular_lines):
    """Every plain word the g2 table lists as a whole-word or word-start exception, in running
    text, capitalised, in a capitals passage and next to punctuation: the models alone write
    many of them with the regular pattern's contraction, and auto writes them all as liblouis."""
    louis = LouisEngine(G2)
    refs = [louis.translate_text(line) for line in irregular_lines]
    got = [r.braille for r in auto.translate_lines(irregular_lines)]
    assert [ln for ln, g, r in zip(irregular_lines, got, refs) if g != r] == []
    routed = auto.route(irregular_lines)
    assert routed.novel_to_louis.any()
    assert (routed.engine[routed.novel_to_louis] == 2).all()
    assert not (routed.novel_to_louis & ~routed.novel_asked).any()
    # without the check the chain writes a good share of them otherwise (the check does work)
    unchecked = NeuralEngine("auto", G2, auto.primary, auto.fallback, auto.thresholds,
                             familiar=auto.familiar)
    unchecked.novel = None
    before = [r.braille for r in unchecked.translate_lines(irregular_lines)]
    assert sum(b != r for b, r in zip(before, refs)) > len(irregular_lines) // 10


def test_words_the_familiar_set_vouches_for_are_not_asked(auto):
    lines = ["The cat sat on the mat, and the dog ran.", "zorblaxing quimbertons"]
    routed = auto.route(lines)
    first = len(lines[0])
    assert not routed.novel_asked[:first].any()        # every word there is in the set
    assert routed.novel_asked[first:].any()             # made-up words are not
    # a made-up word the models write as liblouis does stays theirs
    assert not routed.novel_to_louis.any()


def _check_cnn_tags(lines: list[str], not_written: list[int], familiar=None):
    """The check on the shipped CNN's tags of ``lines``, every character written by the CNN but
    those at ``not_written`` (positions in the joined lines)."""
    cnn = load_tagger("cnn", G2)
    check = novel.NovelCheck(LouisEngine(G2).tables, familiar, cnn.vocab)
    tagged = cnn.tag_lines(lines)
    offsets = np.r_[0, np.cumsum([len(line) for line in lines])]
    written = np.ones(offsets[-1], dtype=bool)
    written[not_written] = False
    return check.check(lines, tagged.pred, tagged.points, offsets, written)


def test_without_the_set_every_word_a_model_wrote_whole_is_asked():
    lines = ["The cat sat.", "It ran off"]
    asked, differ = _check_cnn_tags(lines, [1])   # "The": liblouis wrote part of it
    spaces = np.array([ch == " " for ch in "".join(lines)])
    expect = ~spaces
    expect[:3] = False
    assert asked.tolist() == expect.tolist()
    assert not differ.any()
    # with the shipped set none of these common words is asked
    assert not _check_cnn_tags(lines, [1], load_familiar(G2))[0].any()


def test_a_wrong_guess_is_handed_over_and_a_right_one_kept():
    """The check itself, on braille given by hand: a token written with the regular pattern's
    contraction where the table forbids it differs; the same word as liblouis writes it, and a
    capitalised word without its indicators (its neighbours decide those), agree."""
    tables = LouisEngine(G2).tables
    right = novel.alone(tables, "tearoom")
    assert novel.agrees(tables, "tearoom", right)
    assert not novel.agrees(tables, "tearoom", "⠞⠑⠜⠕⠕⠍")     # ⠜ *ar* across tea|room
    assert novel.agrees(tables, "TEAROOM", right)            # inside a capitals passage
    # a mixed-case word without its inner capital, or a dash written as a hyphen, differs
    assert not novel.agrees(tables, "McDonald", "⠠⠍⠉⠙⠕⠝⠁⠇⠙")
    assert novel.agrees(tables, "McDonald", novel.alone(tables, "McDonald"))
    assert not novel.agrees(tables, "‘Hello’", "⠦⠠⠓⠑⠇⠇⠕⠴")


def test_a_word_is_whole_whatever_liblouis_wrote_around_it():
    """A word counts as written whole by its own characters, not by the spaces after it or the
    next line's."""
    # liblouis wrote the spaces after the word, and the next line's
    asked, _ = _check_cnn_tags(["tearoom  x", " y"], [7, 8, 10])
    assert asked.tolist() == [True] * 7 + [False, False, True, False, True]


def test_roles_are_asked_for_every_token_with_an_upper_case_letter():
    """Letters that are upper-case with no lower-case form (ϒ, ℝ) make a capitalised word as
    ``text_roles`` counts them: the token's role comes from there, as when the set was built."""
    lines = ["ϒ ℝ x", "Hello WORLD IS BIG"]
    offsets = np.r_[0, np.cumsum([len(line) for line in lines])]
    tokens = [t for line in lines for t in line.split(" ")]
    starts = np.array([0, 2, 4, 5, 11, 17, 20])
    expected = [int(r[a]) for line, r in zip(lines, text_roles(lines))
                for a in [m.start() for m in re.finditer(r"[^ ]+", line)]]
    assert token_roles(lines, offsets, starts, tokens) == expected
    assert expected[:2] != [0, 0]


def test_long_words_are_asked_each_time_not_remembered():
    tables = LouisEngine(G2).tables
    word = "x" * (novel.LONGEST_ASKED + 1)
    before = novel._alone.cache_info().currsize
    assert novel.alone(tables, word) == LouisEngine(G2).translate_text(word)
    assert novel._alone.cache_info().currsize == before


def test_the_routing_report_counts_the_words_asked_and_sent(auto, irregular_lines):
    from braillejobs.translate.training import evaluate as ev

    lines = irregular_lines[:40] + ["The cat sat on the mat."]
    routed = auto.route(lines)
    report = ev.routing_report(auto, lines)
    starts = [0] + [i for i in range(1, len(routed.ids))
                    if routed.ids[i] != auto.space_id and (routed.ids[i - 1] == auto.space_id
                                                           or i in set(routed.offsets.tolist()))]
    assert report["novel_asked"] == int(routed.novel_asked[starts].sum()) > 0
    assert report["novel_to_louis"] == int(routed.novel_to_louis[starts].sum()) > 0
