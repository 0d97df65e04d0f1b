"""Labels from liblouis: joining the per-character chunks gives liblouis's output exactly."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from braillejobs.translate.chunks import ESCAPE, UNPACKABLE, chunk_key, escape_chunk, key_to_chunk
from braillejobs.translate.louis_engine import LouisEngine, align
from braillejobs.translate.training import corpus
from braillejobs.translate.training.labels import label_lines, line_keys, refine

from .conftest import RULEBOOK, SAMPLE


def _lines() -> list[str]:
    gens = corpus.Generators(11, ["braille", "reader", "library", "knowledge", "the", "and",
                                  "children", "wonderful", "people", "question"])
    lines = list(SAMPLE) + [gens.sentence() for _ in range(300)]
    if RULEBOOK.exists():
        cases = [json.loads(x) for x in RULEBOOK.read_text(encoding="utf-8").splitlines()]
        lines += random.Random(5).sample([c["input"] for c in cases if "\n" not in c["input"]], 300)
    return lines


@pytest.mark.parametrize("table", ["en-ueb-g2.ctb", "en-ueb-g1.ctb"])
def test_joined_labels_equal_liblouis(table):
    louis = LouisEngine(table)
    lines = _lines()
    kept, keys, dropped = label_lines(lines, table)
    assert dropped <= len(lines) // 100           # non-monotonic position maps are rare
    for line, k in zip(kept, keys):
        braille, chunks = align(line, table)
        assert "".join(chunks) == braille == louis.translate_text(line)
        assert len(chunks) == len(line) == len(k)
        assert rebuilt(line, k, chunks) == braille


def rebuilt(line: str, keys, chunks) -> str:
    """The braille a line's keys stand for (unpackable chunks taken from liblouis's own split)."""
    return "".join(escape_chunk(ch) if x == ESCAPE else (c if x == UNPACKABLE else key_to_chunk(int(x)))
                   for ch, x, c in zip(line, keys, chunks))


# characters the UEB tables do not define, from every escape form: \x (4 digits), \y (5), \z (8)
UNDEFINED = ["한", "コ", "規", "д", "ɪ", "℞", "\uE000", "\x01", "😀", "\U0001D400", "\U00100000"]


@pytest.mark.parametrize("table", ["en-ueb-g2.ctb", "en-ueb-g1.ctb"])
def test_escape_form_is_liblouis_own(table):
    louis = LouisEngine(table)
    for ch in UNDEFINED:
        assert louis.translate_text(ch) == escape_chunk(ch), hex(ord(ch))
    keys = line_keys("Perl 사용자 모임 😀!", table)
    assert [int(k) for k in keys[5:8]] == [ESCAPE] * 3 and keys[-2] == ESCAPE
    assert ESCAPE not in line_keys("Curaçao, naïve café", table)   # defined accents stay chunks


LUMPED = ["the root of the horseradish plant", "law REVERSAL agency", "Southend continues",
          "forbidden COULD JOHNSON EXCITED ARMAND by law", "a slick multimedia interface",
          "secretaries and subbasement's walls"]


def test_lumped_words_are_spread_over_known_pieces():
    table = "en-ueb-g2.ctb"
    # a vocabulary of the chunks in ordinary words: single cells and capitalised letters
    sample_keys = np.concatenate(label_lines(_lines(), table)[1])
    known = frozenset(int(k) for k in np.unique(sample_keys) if k >= 0)
    for line in LUMPED:
        braille, chunks = align(line, table)
        spread = refine(line, chunks, table, lambda c: chunk_key(c) in known)
        assert "".join(spread) == braille and len(spread) == len(line)     # the invariant holds
        keys = line_keys(line, table, known)
        assert rebuilt(line, keys, spread) == braille
        before = sum(1 for c in chunks if c and chunk_key(c) not in known)
        after = sum(1 for k in keys if k != 0 and int(k) not in known)
        assert after < before, line
    # without a vocabulary only chunks that cannot be packed are spread
    braille, chunks = align("the horseradish plant", table)
    assert chunk_key(chunks[4]) == UNPACKABLE
    assert refine("the horseradish plant", chunks, table)[4:15] == list("⠓⠕⠗⠎⠑⠗⠁⠙⠊⠩") + [""]


def _corrections_table(tmp_path, pairs) -> str:
    from braillejobs.corrections.table import table_list, write_table

    return ",".join(table_list("en-ueb-g2.ctb", write_table(pairs, tmp_path)))


def test_a_corrected_phrase_is_labelled_word_by_word(tmp_path):
    # a transcriber's correction for a phrase is one liblouis rule, which reports the whole
    # phrase's braille at its first letter; its words and spaces must keep their own labels, or a
    # model fine-tuned on them learns that "the engine" writes nothing after the t
    phrase = "the engine stuttered r-mmm"
    braille = "⠮⠀⠢⠛⠔⠑⠀⠌⠥⠞⠞⠻⠫⠀⠰⠰⠗⠤⠍⠍⠍"
    tables = _corrections_table(tmp_path, [(phrase, braille)])
    line = f"Then {phrase}, they said."
    whole, chunks = align(line, tables)
    assert chunks[5] == braille and not any(chunks[6:5 + len(phrase)])   # lumped by liblouis
    known = lambda c: chunk_key(c) != UNPACKABLE and len(c) <= 3         # noqa: E731
    spread = refine(line, chunks, tables, known)
    assert "".join(spread) == whole
    plain_braille, plain = align("the engine stuttered", "en-ueb-g2.ctb")
    assert spread[5:5 + 20] == plain          # the uncorrected words as liblouis labels them
    assert [spread[5 + i] for i, ch in enumerate(phrase) if ch == " "] == ["⠀"] * 3
    # the corrected word: its letters keep their cells, the indicators go with the first letter
    assert spread[5 + 21:5 + 26] == ["⠰⠰⠗", "⠤", "⠍", "⠍", "⠍"]
    # a capitalised phrase: the capital indicator stays on its first letter
    line = f"{phrase.capitalize()}."
    whole, chunks = align(line, tables)
    spread = refine(line, chunks, tables, known)
    assert "".join(spread) == whole and spread[0] == "⠠⠮" and spread[3] == "⠀"


def test_a_lumped_phrase_whose_blanks_do_not_match_its_spaces_stays_whole(tmp_path):
    tables = _corrections_table(tmp_path, [("mod cons", "⠍⠕⠙⠒⠎")])     # no blank cell
    whole, chunks = align("all mod cons here", tables)
    spread = refine("all mod cons here", chunks, tables)
    assert "".join(spread) == whole and spread[4] == "⠍⠕⠙⠒⠎" and spread[7] == ""


def test_contraction_lands_on_first_character():
    braille, chunks = align("The quick brown fox", "en-ueb-g2.ctb")
    assert braille == "⠠⠮⠀⠟⠅⠀⠃⠗⠪⠝⠀⠋⠕⠭"
    assert chunks[:3] == ["⠠⠮", "", ""]          # "The" -> capital sign + "the" on the T


def test_chunk_keys_round_trip():
    for chunk in ["", "⠁", "⠠⠠⠠", "⠿⠿⠿⠿⠿⠿⠿⠿", "⠼⠁⠃"]:
        assert key_to_chunk(chunk_key(chunk)) == chunk
    assert chunk_key("⠁" * 9) == UNPACKABLE       # longer than eight cells
    assert chunk_key("⣿") == UNPACKABLE            # dots 7-8
    assert chunk_key("a") == UNPACKABLE
    keys = {chunk_key(c) for c in ["⠁", "⠁⠀", "⠀⠁", "⠀"]}
    assert len(keys) == 4 and 0 not in keys


def test_empty_line():
    assert align("", "en-ueb-g2.ctb") == ("", [])
    kept, keys, dropped = label_lines([""], "en-ueb-g2.ctb")
    assert kept == [""] and len(keys[0]) == 0 and dropped == 0
    assert np.asarray(keys[0]).dtype == np.int64
