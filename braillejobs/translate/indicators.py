"""Indicators a model must not drop: the grade 1 indicator before letters that would read as a
contraction, and the numeric indicator before digits.

UEB puts the grade 1 indicator (⠰, dots 56) before a letter, or a run of letters, that stands
alone and would otherwise be read as a wordsign or a shortform: ``b`` alone is "but", ``alr``
is "already", ``SD`` is "SAID", ``cd`` is "could". A tagger trained on prose sees the common
ones (``Plan B``, ``e-mail``) often and writes them right, but the rare ones (``alr``, ``NEC``,
``td``) too seldom to learn, and then writes the bare letters. And a number starts with the
numeric indicator (⠼, dots 3456): without it ``154`` reads as the letters *a e d*. Either way
the braille reads as something else, with nothing to tell the reader so.

``IndicatorCheck`` looks at the words (a spaced number as one) the auto chain let a model
write that hold a digit, or a letter run that liblouis itself marks with ⠰ when it stands alone
(asked once per distinct run and table, and remembered: the table is the authority, no list is
kept here). For each such word it counts the ⠰ and ⠼ cells the model wrote against those
liblouis writes for the word standing alone, and reports the words where they differ, which the
chain then hands to liblouis; so are such words a model wrote only in part (the rest is a
transcriber's correction, which liblouis applies). It compares counts: ⠰ also opens final-letter
groupsigns such as ⠰⠞ *ment*, so an indicator dropped in a word that gained another ⠰ elsewhere
would pass. Words longer than ``LONGEST_ASKED`` (URLs, paths) are asked each time, not
remembered: asking costs liblouis one pass over the word, less than handing it over would. A
word holding no digit and no such run costs a remembered lookup per letter run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from .louis_engine import translate_string

SIGN = "\u2830"                            # ⠰, dots 5-6: the grade 1 indicator
NUMERIC = "\u283c"                         # ⠼, dots 3-4-5-6: the numeric indicator
_LETTERS = re.compile(r"[^\W\d_]+")        # runs of letters (any script)
# the chain's words (runs of non-spaces), a number spaced as "+44 20 7946" taken as one: liblouis
# keeps numeric mode across a single space between digits (writing ⠐ for it), so the later
# groups have no ⠼ of their own
_WORDS = re.compile(r"[^ ]+(?:(?<=[0-9]) (?=[0-9])[^ ]+)*")
_DIGIT = re.compile(r"[0-9]")
LONGEST_ASKED = 64                         # longer runs are not asked, longer words not kept
_REMEMBERED = 1 << 16                      # entries each cache keeps (least recently used go)


def takes_sign(tables: str, run: str) -> bool:
    """Whether liblouis writes the grade 1 indicator before this run of letters standing alone
    (asked in lower case). The tables' contractions are short runs of ASCII letters: other runs
    are not asked."""
    if not run.isascii() or len(run) > LONGEST_ASKED:
        return False
    return _takes_sign(tables, run.lower())


@lru_cache(maxsize=_REMEMBERED)
def _takes_sign(tables: str, run: str) -> bool:
    return translate_string(tables, run).startswith(SIGN)


def indicators_in(tables: str, word: str) -> tuple[int, int]:
    """The ⠰ and ⠼ cells liblouis writes in this word standing alone (remembered for words of
    up to ``LONGEST_ASKED`` characters)."""
    if len(word) > LONGEST_ASKED:
        return _count(translate_string(tables, word))
    return _indicators_in(tables, word)


@lru_cache(maxsize=_REMEMBERED)
def _indicators_in(tables: str, word: str) -> tuple[int, int]:
    return _count(translate_string(tables, word))


def _count(braille: str) -> tuple[int, int]:
    return braille.count(SIGN), braille.count(NUMERIC)


class IndicatorCheck:
    """The check for a table list and a model's chunk vocabulary."""

    def __init__(self, tables: str, chunk_strings: Sequence[str]):
        self.tables = tables
        # ⠰ and ⠼ cells each chunk of the model's vocabulary writes
        self.signs_in_chunk = np.array([s.count(SIGN) for s in chunk_strings], dtype=np.int64)
        self.numerics_in_chunk = np.array([s.count(NUMERIC) for s in chunk_strings],
                                          dtype=np.int64)

    def watched(self, word: str) -> bool:
        """Whether the check looks at this word: it holds a digit, or a letter run that takes
        the grade 1 indicator standing alone."""
        return bool(_DIGIT.search(word)) or any(takes_sign(self.tables, run)
                                                for run in _LETTERS.findall(word))

    def mismatched(self, lines: Sequence[str], pred: np.ndarray, offsets: np.ndarray,
                   written: np.ndarray) -> np.ndarray:
        """Mask of the characters (of the concatenated ``lines``, ``offsets`` their starts) that
        a model wrote (``written``; chunk ids ``pred``) and that liblouis should write instead:
        those of watched words where the ⠰ or ⠼ cells differ from liblouis's, or that a model
        wrote only in part."""
        out = np.zeros(len(pred), dtype=bool)
        for i, line in enumerate(lines):
            base = int(offsets[i])
            for word in _WORDS.finditer(line):
                a, b = base + word.start(), base + word.end()
                mine = written[a:b]
                if not mine.any() or not self.watched(word.group()):
                    continue
                ids = pred[a:b]
                wrote = (int(self.signs_in_chunk[ids].sum()),
                         int(self.numerics_in_chunk[ids].sum()))
                if not mine.all() or wrote != indicators_in(self.tables, word.group()):
                    out[a:b] = mine
        return out
