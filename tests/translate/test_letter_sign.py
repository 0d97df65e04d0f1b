"""The grade 1 indicator check: the auto chain never lets a model write bare letters that read
as a contraction (``alr`` as "already"), on the shipped models and real liblouis."""

from __future__ import annotations

import itertools
import string

import numpy as np
import pytest

from braillejobs.translate import letter_sign as ls
from braillejobs.translate.louis_engine import LouisEngine
from braillejobs.translate.neural import NeuralEngine, load_tagger

G2 = "en-ueb-g2.ctb"
# a model's chunk vocabulary, in miniature: id -> chunk (ids 0 and 1: empty and unknown)
CHUNKS = ["", "", "⠁", "⠇", "⠗", "⠰⠁", "⠉", "⠙", "⠰⠉", "⠞", "⠐⠣", "⠐⠜", "⠂", "⠀", "⠤"]
ID = {c: i for i, c in enumerate(CHUNKS) if c}


@pytest.fixture(scope="module")
def auto():
    cnn, rnn = load_tagger("cnn", G2), load_tagger("rnn", G2)
    return NeuralEngine("auto", G2, cnn, rnn, cnn.checkpoint.meta["thresholds"])


def _runs_taking_the_sign(table: str, longest: int) -> list[str]:
    runs = ("".join(p) for n in range(1, longest + 1)
            for p in itertools.product(string.ascii_lowercase, repeat=n))
    return [r for r in runs if ls.takes_sign(table, r)]


def _check(lines, chunks_per_line, written=None):
    """Run the check on lines whose characters the model wrote as the given chunks."""
    pred = np.array([ID[c] for chunks in chunks_per_line for c in chunks], dtype=np.int64)
    offsets = np.r_[0, np.cumsum([len(line) for line in lines])]
    assert len(pred) == offsets[-1]
    written = np.ones(len(pred), dtype=bool) if written is None else np.asarray(written)
    return ls.LetterSigns(G2, CHUNKS).mismatched(lines, pred, offsets, written).tolist()


def test_liblouis_decides_which_letters_take_the_sign():
    assert ls.takes_sign(G2, "alr") and ls.takes_sign(G2, "b") and ls.takes_sign(G2, "SD")
    assert not ls.takes_sign(G2, "a") and not ls.takes_sign(G2, "cat")
    assert not ls.takes_sign(G2, "ça")                # the tables' contractions are ASCII
    assert not ls.takes_sign(G2, "\u212a")            # the Kelvin sign is not the letter k
    assert ls.signs_in(G2, "(cd),") == 1 and ls.signs_in(G2, "e.g.") == 0
    # grade 1 has no contractions for bare letters to be mistaken for
    assert not ls.takes_sign("en-ueb-g1.ctb", "alr")


def test_a_word_is_flagged_where_the_model_wrote_other_sign_cells():
    bare, signed = ["⠁", "⠇", "⠗"], ["⠰⠁", "⠇", "⠗"]
    assert _check(["alr"], [bare]) == [True] * 3                   # reads "already"
    assert _check(["alr"], [signed]) == [False] * 3
    assert _check(["cat"], [["⠉", "⠁", "⠞"]]) == [False] * 3       # no run that takes it
    assert _check(["alr"], [bare], written=[False] * 3) == [False] * 3   # liblouis wrote it


def test_words_are_found_by_code_point_among_others_and_punctuation():
    line = "😀 (cd), alr"
    chunks = ["⠁", "⠀", "⠐⠣", "⠉", "⠙", "⠐⠜", "⠂", "⠀", "⠰⠁", "⠇", "⠗"]
    assert _check([line], [chunks]) == [False] * 2 + [True] * 5 + [False] * 4
    chunks[3] = "⠰⠉"
    assert _check([line], [chunks]) == [False] * 11
    # the same words on a second line, after a first: offsets carry
    assert _check(["alr", line], [["⠁", "⠇", "⠗"], chunks]) == [True] * 3 + [False] * 11


def test_a_word_written_in_part_goes_to_liblouis():
    # the model wrote "-cd" of "al-cd" (a correction wrote "al"): liblouis writes the whole word
    chunks = ["⠁", "⠇", "⠤", "⠰⠉", "⠙"]
    part = [False, False, True, True, True]
    assert _check(["al-cd"], [chunks], written=part) == part


def test_a_long_token_is_asked_of_liblouis_but_not_remembered():
    token = "cd-" + "t" * ls.LONGEST_ASKED
    ls.takes_sign(G2, "cd"), ls.takes_sign(G2, "t" * ls.LONGEST_ASKED)
    before = (ls._takes_sign.cache_info().currsize, ls._signs_in.cache_info().currsize)
    right = ["⠰⠉", "⠙", "⠤"] + ["⠞"] * ls.LONGEST_ASKED
    assert _check([token], [right]) == [False] * len(token)
    bare = ["⠉", "⠙", "⠤"] + ["⠞"] * ls.LONGEST_ASKED
    assert _check([token], [bare]) == [True] * len(token)
    assert not ls.takes_sign(G2, "b" * (ls.LONGEST_ASKED + 1))
    assert (ls._takes_sign.cache_info().currsize, ls._signs_in.cache_info().currsize) == before


def test_auto_writes_every_letter_run_that_takes_the_sign_as_liblouis_does(auto):
    """Every run of up to three letters that liblouis marks standing alone, in running text,
    capitalised, in a capital passage next to punctuation, and in brackets. The CNN alone gets
    a good share of these wrong (bare letters that read as a wordsign or shortform); with the
    check, auto writes them all as liblouis does."""
    runs = _runs_taking_the_sign(G2, 3)
    assert {"b", "sd", "alr", "nec"} <= set(runs)
    lines = [form.format(r=r, R=r.capitalize(), U=r.upper()) for r in runs
             for form in ("We wrote {r} on the card.", "{R} was all it said.",
                          "THE LABEL READ {U}, NOTHING MORE.", "({r})")]
    louis = LouisEngine(G2)
    refs = [louis.translate_text(line) for line in lines]
    got = [r.braille for r in auto.translate_lines(lines)]
    assert [ln for ln, g, r in zip(lines, got, refs) if g != r] == []
    routed = auto.route(lines)
    assert (routed.engine[routed.sign_to_louis] == 2).all()


def test_the_check_flags_nothing_where_the_models_write_the_sign(auto):
    assert auto.letter_signs is not None
    lines = ["He said it was already done.", "e.g. the e-mail from Plan B at 3d."]
    assert not auto.route(lines).sign_to_louis.any()


def test_the_routing_report_counts_the_words_the_check_sent(auto):
    from braillejobs.translate.training import evaluate as ev

    lines = [f"We wrote {r} on the card." for r in _runs_taking_the_sign(G2, 2)]
    lines.append("He said it was already done.")
    sent = auto.route(lines).sign_to_louis
    word_starts = [sum(map(len, lines[:i])) + 9 for i in range(len(lines) - 1)]
    assert ev.routing_report(auto, lines)["letter_sign_to_louis"] == int(sent[word_starts].sum())
