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


@pytest.fixture(scope="module")
def auto():
    cnn, rnn = load_tagger("cnn", G2), load_tagger("rnn", G2)
    return NeuralEngine("auto", G2, cnn, rnn, cnn.checkpoint.meta["thresholds"])


def _runs_taking_the_sign(table: str, longest: int) -> list[str]:
    runs = ("".join(p) for n in range(1, longest + 1)
            for p in itertools.product(string.ascii_lowercase, repeat=n))
    return [r for r in runs if ls.takes_sign(table, r)]


def test_liblouis_decides_which_letters_take_the_sign():
    assert ls.takes_sign(G2, "alr") and ls.takes_sign(G2, "b") and ls.takes_sign(G2, "sd")
    assert not ls.takes_sign(G2, "a") and not ls.takes_sign(G2, "cat")
    assert not ls.takes_sign(G2, "ça")                # the tables' contractions are ASCII
    assert ls.signs_in(G2, "(cd),") == 1 and ls.signs_in(G2, "e.g.") == 0
    long_token = "cd-" + "x" * 200            # asked of liblouis, but not remembered
    assert ls.signs_in(G2, long_token) == 1 and not ls.takes_sign(G2, "b" * 200)
    # grade 1 has no contractions for bare letters to be mistaken for
    assert not ls.takes_sign("en-ueb-g1.ctb", "alr")


def test_a_word_is_flagged_only_where_the_model_wrote_other_indicators(auto):
    chunks = auto.primary.vocab.chunk_strings
    cid = {c: chunks.index(c) for c in ("⠁", "⠇", "⠗", "⠰⠁", "⠉", "⠞")}
    check = auto.letter_signs
    lines = ["alr", "alr", "cat", "alr"]
    pred = np.array([cid["⠁"], cid["⠇"], cid["⠗"],            # bare: reads "already"
                     cid["⠰⠁"], cid["⠇"], cid["⠗"],           # with the indicator
                     cid["⠉"], cid["⠁"], cid["⠞"],             # no run that takes it
                     cid["⠁"], cid["⠇"], cid["⠗"]])            # bare, but liblouis wrote it
    offsets = np.array([0, 3, 6, 9, 12])
    written = np.array([True] * 9 + [False] * 3)
    flagged = check.mismatched(lines, pred, offsets, written)
    assert flagged.tolist() == [True] * 3 + [False] * 9


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
    assert routed.signed.any() and (routed.engine[routed.signed] == 2).all()


def test_the_check_costs_nothing_where_the_models_write_the_sign(auto):
    lines = ["He said it was already done.", "e.g. the e-mail from Plan B at 3d."]
    routed = auto.route(lines)
    assert not routed.signed.any()


def test_the_routing_report_counts_the_words_the_check_sent(auto):
    from braillejobs.translate.training import evaluate as ev

    lines = [f"We wrote {r} on the card." for r in _runs_taking_the_sign(G2, 2)]
    lines.append("He said it was already done.")
    signed = auto.route(lines).signed
    word_starts = [sum(map(len, lines[:i])) + 9 for i in range(len(lines) - 1)]
    expected = int(signed[word_starts].sum())
    assert expected > 0
    assert ev.routing_report(auto, lines)["letter_sign_to_louis"] == expected
