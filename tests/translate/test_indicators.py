"""The indicator check: the auto chain never lets a model write bare letters that read as a
contraction (``alr`` as "already") or a number without its numeric indicator, on the shipped
models and real liblouis."""

from __future__ import annotations

import itertools
import string

import numpy as np
import pytest

from braillejobs.translate import indicators as ls
from braillejobs.translate.louis_engine import LouisEngine
from braillejobs.translate.neural import NeuralEngine, load_tagger

G2 = "en-ueb-g2.ctb"
# a model's chunk vocabulary, in miniature: id -> chunk (ids 0 and 1: empty and unknown)
CHUNKS = ["", "", "⠁", "⠇", "⠗", "⠰⠁", "⠉", "⠙", "⠰⠉", "⠞", "⠐⠣", "⠐⠜", "⠂", "⠀", "⠤", "⠼⠁",
          "⠑", "⠠⠠⠗", "⠕", "⠍", "⠃", "⠐", "⠼⠑"]
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
    return ls.IndicatorCheck(G2, CHUNKS).mismatched(lines, pred, offsets, written).tolist()


def test_liblouis_decides_which_letters_take_the_sign():
    assert ls.takes_sign(G2, "alr") and ls.takes_sign(G2, "b") and ls.takes_sign(G2, "SD")
    assert not ls.takes_sign(G2, "a") and not ls.takes_sign(G2, "cat")
    assert not ls.takes_sign(G2, "ça")                # the tables' contractions are ASCII
    assert not ls.takes_sign(G2, "\u212a")            # the Kelvin sign is not the letter k
    assert ls.indicators_in(G2, "(cd),") == (1, 0) and ls.indicators_in(G2, "e.g.") == (0, 0)
    assert ls.indicators_in(G2, "3d") == (1, 1) and ls.indicators_in(G2, "2-5-1") == (0, 3)
    # grade 1 has no contractions for bare letters to be mistaken for
    assert not ls.takes_sign("en-ueb-g1.ctb", "alr")


def test_a_number_without_its_numeric_indicator_is_flagged():
    # "154" in a capital passage: without ⠼ it reads as the letters a e d
    assert _check(["15"], [["⠁", "⠑"]]) == [True, True]
    assert _check(["15"], [["⠼⠁", "⠑"]]) == [False, False]
    line = "ROOM 15"
    room = ["⠠⠠⠗", "⠕", "⠕", "⠍", "⠀"]
    assert _check([line], [room + ["⠁", "⠑"]]) == [False] * 5 + [True] * 2
    assert not ls.IndicatorCheck(G2, CHUNKS).watched("ROOM")


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
    before = (ls._takes_sign.cache_info().currsize, ls._indicators_in.cache_info().currsize)
    right = ["⠰⠉", "⠙", "⠤"] + ["⠞"] * ls.LONGEST_ASKED
    assert _check([token], [right]) == [False] * len(token)
    bare = ["⠉", "⠙", "⠤"] + ["⠞"] * ls.LONGEST_ASKED
    assert _check([token], [bare]) == [True] * len(token)
    assert not ls.takes_sign(G2, "b" * (ls.LONGEST_ASKED + 1))
    assert (ls._takes_sign.cache_info().currsize, ls._indicators_in.cache_info().currsize) == before


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
    assert (routed.engine[routed.indicator_to_louis] == 2).all()


def test_the_check_flags_nothing_where_the_models_write_the_sign(auto):
    assert auto.indicators is not None
    lines = ["He said it was already done.", "e.g. the e-mail from Plan B at 3d."]
    assert not auto.route(lines).indicator_to_louis.any()


def test_the_routing_report_counts_the_words_the_check_sent(auto):
    from braillejobs.translate.training import evaluate as ev

    lines = [f"We wrote {r} on the card." for r in _runs_taking_the_sign(G2, 2)]
    lines.append("He said it was already done.")
    sent = auto.route(lines).indicator_to_louis
    word_starts = [sum(map(len, lines[:i])) + 9 for i in range(len(lines) - 1)]
    assert ev.routing_report(auto, lines)["indicator_to_louis"] == int(sent[word_starts].sum())


def test_numbers_written_by_the_bilstm_keep_their_numeric_indicator(auto):
    """With every word handed to the BiLSTM and settled there (the weaker model, which drops ⠼
    in capital passages), each line of numbers still has liblouis's ⠼ cells: the check hands
    every number it wrote otherwise to liblouis."""
    rng = np.random.default_rng(3)
    forms = ["ROOM {n} IS CLOSED", "Call {n} now.", "page {n}, line {m}", "({n})", "#{n}",
             "THE {n} STEPS", "v{n}.{m}.3"]
    lines = [forms[k].format(n=int(rng.integers(0, 10 ** 7)), m=int(rng.integers(0, 60)))
             for k in rng.integers(0, len(forms), 300)]
    everything = NeuralEngine("auto", G2, auto.primary, auto.fallback, {"cnn": 1.01, "rnn": 0.0})
    louis = LouisEngine(G2)
    got = [r.braille for r in everything.translate_lines(lines)]
    refs = [louis.translate_text(line) for line in lines]
    assert [ln for ln, g, r in zip(lines, got, refs)
            if g.count(ls.NUMERIC) != r.count(ls.NUMERIC)] == []


def test_a_spaced_number_is_one_word_to_the_check():
    # liblouis keeps numeric mode across the single spaces of "12 5": ⠼⠁⠃⠐⠑, one ⠼
    assert ls.indicators_in(G2, "12 5") == (0, 1)
    line = "12 5"
    right = ["⠼⠁", "⠃", "⠐", "⠑"]
    assert _check([line], [right]) == [False] * 4
    assert _check([line], [["⠼⠁", "⠃", "⠐", "⠼⠑"]]) == [True] * 4
