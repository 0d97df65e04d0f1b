"""Labels from liblouis: joining the per-character chunks gives liblouis's output exactly."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from braillejobs.translate import corpus
from braillejobs.translate.labels import (UNPACKABLE, align, chunk_key, key_to_chunk,
                                          label_lines)
from braillejobs.translate.louis_engine import LouisEngine

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
        rebuilt = "".join(key_to_chunk(int(x)) if x != UNPACKABLE else c
                          for x, c in zip(k, chunks))
        assert rebuilt == braille


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
