"""Long lines through liblouis in pieces: the same braille as one call, with bounded calls.

Small pieces (a few thousand characters) put dozens of cuts into each test line, at spaces and,
in text without spaces, inside words and numbers; the real engine cuts every 50,000 characters.
"""

from __future__ import annotations

import random

import pytest

from braillejobs.translate import louis_engine
from braillejobs.translate.louis_engine import LouisEngine, cut_points, translate_in_pieces

TABLE = "en-ueb-g2.ctb"
WORDS = ("the and for of with in to knowledge mother Lord ought character "
         "together because first little o'clock don't it's children's "
         "self-defence e-mail U.S.A. BBC NASA PhD McDonald iPhone "
         "1 42 3.5 1,234 3rd 12:30 1/2 1990s 10% $5 #7 A1 B-52 2x").split()
PUNCT = ["", "", "", ",", ".", ";", ":", "!", "?", '"', "'", ")", "-"]


def varied_text(n: int, seed: int) -> tuple[str, list[int]]:
    """Words, capitals (initial, whole words, passages of capitals), numbers and punctuation,
    with emphasis (italic, underline, bold, combined) on single letters, words and passages."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    caps_left = 0
    while size < n:
        w = rng.choice(WORDS)
        if caps_left:
            w, caps_left = w.upper(), caps_left - 1
        elif rng.random() < 0.03:
            caps_left = rng.randint(1, 6)
        elif rng.random() < 0.15:
            w = w[:1].upper() + w[1:]
        w = ("(" if rng.random() < 0.03 else "") + w + rng.choice(PUNCT)
        out.append(w)
        size += len(w) + 1
    text = " ".join(out)[:n]
    typeform = [0] * len(text)
    i = 0
    while i < len(text):
        if rng.random() < 0.01:
            span = rng.choice([1, 3, 12, 40, 200, 900])
            flag = rng.choice([1, 2, 4, 5, 3])
            for k in range(i, min(i + span, len(text))):
                typeform[k] = flag
            i += span
        i += rng.randint(1, 40)
    return text, typeform


def one_call(text: str, typeform: list[int] | None) -> str:
    louis = louis_engine.load_louis()
    return louis.translateString([TABLE], text, typeform=list(typeform) if typeform else None,
                                 mode=louis.dotsIO | louis.ucBrl)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("emphasis", [False, True], ids=["plain", "emphasis"])
def test_pieces_give_the_braille_of_one_call(seed, emphasis):
    text, typeform = varied_text(60_000, seed)
    tf = typeform if emphasis else None
    assert translate_in_pieces(TABLE, text, tf, piece=1_500) == one_call(text, tf)


@pytest.mark.parametrize("text", [
    "1234567890" * 3_000,  # one number of 30,000 digits
    "abcdefghijklmnopqrstuvwxyz" * 1_200,  # one word with no space
    "THEQUICKBROWNFOX" * 2_000,  # one word of capitals
    ("knowledge" * 300 + " ") * 12,  # words longer than half a piece
    "x" * 2_001 + " " + "12.5" * 3_000,
], ids=["digits", "letters", "capitals", "long-words", "mixed"])
def test_pieces_without_spaces_give_the_braille_of_one_call(text):
    assert translate_in_pieces(TABLE, text, piece=1_000) == one_call(text, None)


def test_cut_points_prefer_spaces_and_bound_the_pieces():
    text, _ = varied_text(100_000, 9)
    cuts = cut_points(text, 5_000)
    assert cuts[0] == 0 and cuts[-1] == len(text)
    assert all(0 < b - a <= 5_000 for a, b in zip(cuts, cuts[1:]))
    assert all(text[c] == " " for c in cuts[1:-1])
    assert cut_points("x" * 12_000, 5_000) == [0, 5_000, 10_000, 12_000]


def test_engine_translates_a_long_line_in_bounded_calls(monkeypatch):
    """Each liblouis call sees at most a piece and its context, whatever the line's length."""
    real = louis_engine.translate_with_positions
    seen: list[int] = []

    def counting(table, text, typeform=None):
        seen.append(len(text))
        return real(table, text, typeform)

    monkeypatch.setattr(louis_engine, "translate_with_positions", counting)
    monkeypatch.setattr(louis_engine, "PIECE_CHARS", 4_000)
    text, typeform = varied_text(120_000, 5)
    engine = LouisEngine(TABLE)
    [result] = engine.translate_lines([text], [typeform])
    assert result.braille == one_call(text, typeform)
    assert result.chars_by_engine == {"louis": len(text)}
    assert len(seen) >= 30 and max(seen) <= 4_000 + 2 * louis_engine.CONTEXT_CHARS
    seen.clear()
    engine.translate_lines(["a short line"])
    assert seen == []  # short lines: one call, the usual way
