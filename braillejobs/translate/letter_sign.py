"""The grade 1 indicator before letters that would read as a contraction.

UEB puts the grade 1 indicator (⠰, dots 56) before a letter, or a run of letters, that stands
alone and would otherwise be read as a wordsign or a shortform: ``b`` alone is "but", ``alr``
is "already", ``SD`` is "SAID", ``cd`` is "could". A tagger trained on prose sees the common
ones (``Plan B``, ``e-mail``) often and writes them right, but the rare ones (``alr``, ``NEC``,
``td``) too seldom to learn, and then writes the bare letters: braille that reads as another
word, with nothing to tell the reader so.

``LetterSigns`` finds, in the words the auto chain let a model write, the letter runs that
liblouis itself marks with the indicator when they stand alone (asked once per distinct run and
table in a process: the table is the authority, no list is kept here). For each such word it
compares the indicators the model wrote with those liblouis writes for the word standing alone,
and reports the words where they differ, which the chain then hands to liblouis. A word holding
no such run costs a cached lookup per letter run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from .louis_engine import translate_string

SIGN = "\u2830"                            # ⠰, dots 5-6: the grade 1 indicator
_LETTERS = re.compile(r"[^\W\d_]+")        # runs of letters (any script)
_WORDS = re.compile(r"[^ ]+")              # the chain's words: runs of non-spaces
CACHED_WORD = 64


def takes_sign(tables: str, run: str) -> bool:
    """Whether liblouis writes the indicator before these letters (lower case) standing alone.
    The tables' contractions are short runs of ASCII letters; longer or other runs are not
    asked, nor remembered."""
    if not run.isascii() or len(run) > CACHED_WORD:
        return False
    return _takes_sign(tables, run)


@lru_cache(maxsize=1 << 16)
def _takes_sign(tables: str, run: str) -> bool:
    return translate_string(tables, run).startswith(SIGN)


def signs_in(tables: str, word: str) -> int:
    """How many indicators liblouis writes in this word standing alone (remembered for words
    of up to ``CACHED_WORD`` characters, so that long tokens do not fill the memory)."""
    if len(word) > CACHED_WORD:
        return translate_string(tables, word).count(SIGN)
    return _signs_in_short(tables, word)


@lru_cache(maxsize=1 << 16)
def _signs_in_short(tables: str, word: str) -> int:
    return translate_string(tables, word).count(SIGN)


class LetterSigns:
    """The grade 1 indicator check for a table list and a model's chunk vocabulary."""

    def __init__(self, tables: str, chunk_strings: Sequence[str]):
        self.tables = tables
        # indicators each chunk of the model's vocabulary writes
        self.signs_in_chunk = np.array([s.count(SIGN) for s in chunk_strings], dtype=np.int64)

    def mismatched(self, lines: Sequence[str], pred: np.ndarray, offsets: np.ndarray,
                   written: np.ndarray) -> np.ndarray:
        """Mask of the characters (of the concatenated ``lines``) in words a model wrote
        (``written`` all through the word) that hold a letter run taking the indicator alone,
        and whose chunks (``pred``) carry another number of indicators than liblouis writes."""
        out = np.zeros(len(pred), dtype=bool)
        for i, line in enumerate(lines):
            base = int(offsets[i])
            for word in _WORDS.finditer(line):
                text = word.group()
                if not any(takes_sign(self.tables, run.lower())
                           for run in _LETTERS.findall(text)):
                    continue
                a, b = base + word.start(), base + word.end()
                if written[a:b].all() and (int(self.signs_in_chunk[pred[a:b]].sum())
                                           != signs_in(self.tables, text)):
                    out[a:b] = True
        return out
