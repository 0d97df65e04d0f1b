"""The grade 1 indicator before letters that would read as a contraction.

UEB puts the grade 1 indicator (⠰, dots 56) before a letter, or a run of letters, that stands
alone and would otherwise be read as a wordsign or a shortform: ``b`` alone is "but", ``alr``
is "already", ``SD`` is "SAID", ``cd`` is "could". A tagger trained on prose sees the common
ones (``Plan B``, ``e-mail``) often and writes them right, but the rare ones (``alr``, ``NEC``,
``td``) too seldom to learn, and then writes the bare letters: braille that reads as another
word, with nothing to tell the reader so.

``LetterSigns`` finds, in the words the auto chain let a model write, the letter runs that
liblouis itself marks with the indicator when they stand alone (asked once per distinct run and
table, and remembered: the table is the authority, no list is kept here). For each such word it
compares the ⠰ cells the model wrote with those liblouis writes for the word standing alone (a
count: the same cell also opens final-letter groupsigns such as ⠰⠞ *ment*, so an indicator
dropped in a word that gained another ⠰ elsewhere would pass), and reports the words where they
differ, which the chain then hands to liblouis; so are such words a model wrote only in part
(the rest is a transcriber's correction, which liblouis applies). Words longer than
``LONGEST_ASKED`` (URLs, paths) are asked each time, not remembered: asking costs liblouis one
pass over the word, less than handing it over would. A word holding no such run costs a
remembered lookup per letter run.
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
LONGEST_ASKED = 64                         # longer runs are not asked, longer words not kept
_REMEMBERED = 1 << 16                      # entries each cache keeps (least recently used go)


def takes_sign(tables: str, run: str) -> bool:
    """Whether liblouis writes the indicator before this run of letters standing alone (asked
    in lower case). The tables' contractions are short runs of ASCII letters: other runs are
    not asked."""
    if not run.isascii() or len(run) > LONGEST_ASKED:
        return False
    return _takes_sign(tables, run.lower())


@lru_cache(maxsize=_REMEMBERED)
def _takes_sign(tables: str, run: str) -> bool:
    return translate_string(tables, run).startswith(SIGN)


def signs_in(tables: str, word: str) -> int:
    """How many ⠰ cells liblouis writes in this word standing alone (remembered for words of
    up to ``LONGEST_ASKED`` characters)."""
    if len(word) > LONGEST_ASKED:
        return translate_string(tables, word).count(SIGN)
    return _signs_in(tables, word)


@lru_cache(maxsize=_REMEMBERED)
def _signs_in(tables: str, word: str) -> int:
    return translate_string(tables, word).count(SIGN)


class LetterSigns:
    """The grade 1 indicator check for a table list and a model's chunk vocabulary."""

    def __init__(self, tables: str, chunk_strings: Sequence[str]):
        self.tables = tables
        # ⠰ cells each chunk of the model's vocabulary writes
        self.signs_in_chunk = np.array([s.count(SIGN) for s in chunk_strings], dtype=np.int64)

    def mismatched(self, lines: Sequence[str], pred: np.ndarray, offsets: np.ndarray,
                   written: np.ndarray) -> np.ndarray:
        """Mask of the characters (of the concatenated ``lines``, ``offsets`` their starts) that
        a model wrote (``written``; chunk ids ``pred``) and that liblouis should write instead:
        those of words holding a letter run that takes the indicator alone, where the ⠰ cells
        differ from liblouis's, or a model wrote only part of the word."""
        out = np.zeros(len(pred), dtype=bool)
        for i, line in enumerate(lines):
            base = int(offsets[i])
            for word in _WORDS.finditer(line):
                a, b = base + word.start(), base + word.end()
                mine = written[a:b]
                if not mine.any():
                    continue
                text = word.group()
                if not any(takes_sign(self.tables, run) for run in _LETTERS.findall(text)):
                    continue
                if not mine.all() or (int(self.signs_in_chunk[pred[a:b]].sum())
                                      != signs_in(self.tables, text)):
                    out[a:b] = mine
        return out
