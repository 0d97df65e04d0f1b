"""Words a model wrote in a way its training never showed it: checked against liblouis.

The taggers learned UEB from liblouis's braille for the training corpus. A word a model writes
exactly as liblouis wrote the same token, in the same capitals role, somewhere in that corpus is
vouched for by the familiar set (``familiar.py``): there the model gives back what it was taught.
Any other word is the model's own generalisation, and that is where the table's irregular words
bite. liblouis's UEB tables hold hundreds of explicit word entries (``sufword chieftainess``,
``sufword tearoom``, ``word mst``) for words where UEB forbids the contraction the regular
pattern would use: no ⠰⠎ *ness* in *citizeness*, no ⠂ *ea* across *tea|room*, no shortform in
*mst*. A model that never saw such a word writes the regular pattern, and is sure of it, so no
confidence threshold catches it; a reader meets a wrong contraction with nothing to say so.

``NovelCheck`` asks liblouis for each such unvouched word standing alone (remembered per word,
as the indicator check does: the table is the authority, no list is kept here) and reports the
words whose braille differs from the model's in anything but what the word's neighbours decide:

- capital indicators, where the word is capitalised (upper-case letters, no lower-case one:
  inside a capitals passage such a word has none of its own, and the passage's ⠠⠄ terminator
  falls on its last word): those are the capitals roles' concern, and the familiar set's key; a
  word of mixed case (``McDonald``, ``iPhone``) is written the same wherever it stands, so there
  every cell counts;
- the numeric indicator, where the word holds a digit (a number continued across a space has
  none): the indicator check (``indicators.py``) compares those with liblouis's.

The auto chain hands the reported words to liblouis. On prose the set vouches for most words
and the rest almost always agree, so the check costs a lookup per word and a remembered
liblouis call per new one, and moves nothing; on a word the models guessed it moves the word.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from .capitals import capitalised, token_roles
from .chunks import is_escape
from .familiar import Familiar
from .indicators import LONGEST_ASKED, NUMERIC
from .louis_engine import translate_string
from .vocab import Vocab

CAPITAL = "\u2820"                          # ⠠, dot 6: the capital indicator (⠠⠠, ⠠⠠⠠ repeat it)
TERMINATOR = "\u2820\u2804"                 # ⠠⠄: ends a capitals word or passage
_DIGIT = re.compile(r"[0-9]")
_REMEMBERED = 1 << 16                       # words remembered (least recently used go)


def context_free(token: str, braille: str) -> str:
    """``braille`` for ``token`` without the cells its neighbours decide: the capital indicators
    where the token is a capitalised word (inside a capitals passage it has none of its own; a
    word of mixed case, ``McDonald``, is written the same everywhere, so every cell counts), the
    numeric indicator where it holds a digit."""
    if capitalised(token):
        braille = braille.replace(TERMINATOR, "").replace(CAPITAL, "")
    if _DIGIT.search(token):
        braille = braille.replace(NUMERIC, "")
    return braille


def alone(tables: str, token: str) -> str:
    """liblouis's braille for ``token`` standing alone (remembered up to ``LONGEST_ASKED``)."""
    if len(token) > LONGEST_ASKED:
        return translate_string(tables, token)
    return _alone(tables, token)


@lru_cache(maxsize=_REMEMBERED)
def _alone(tables: str, token: str) -> str:
    return translate_string(tables, token)


def undefined(tables: str, ch: str) -> bool:
    """Whether the tables leave ``ch`` undefined: liblouis writes its escape for it
    (remembered with the words)."""
    return is_escape(ch, alone(tables, ch))


def agrees(tables: str, token: str, braille: str) -> bool:
    """Whether a model's ``braille`` for ``token`` is liblouis's, neighbours' cells aside."""
    return context_free(token, braille) == context_free(token, alone(tables, token))


class NovelCheck:
    """The check for a table list, the familiar set (None: no word is vouched for, every one is
    asked) and a model's vocabulary (to write its chunk ids as braille)."""

    def __init__(self, tables: str, familiar: Familiar | None, vocab: Vocab):
        self.tables = tables
        self.familiar = familiar
        self.vocab = vocab

    def check(self, lines: Sequence[str], pred: np.ndarray, points: np.ndarray,
              offsets: np.ndarray, written: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the concatenated ``lines`` (``offsets`` their starts and the end), the characters
        of the words (space-separated tokens) a model wrote whole (``written``; chunk ids
        ``pred``, code points ``points``) that the familiar set does not vouch for (the words
        asked), and of those, the words whose braille differs from liblouis's (to hand over)."""
        asked = np.zeros(len(pred), dtype=bool)
        differ = np.zeros(len(pred), dtype=bool)
        starts, lengths = token_spans(points, offsets)
        if len(starts):
            # characters not written by a model before each position: a token is whole where
            # none falls inside it
            before = np.r_[0, np.cumsum(~written)]
            whole = before[starts + lengths] == before[starts]
            starts, lengths = starts[whole], lengths[whole]
        if not len(starts):
            return asked, differ
        brailles = self.vocab.spans(pred, points, starts, lengths)
        text = "".join(lines)
        spans = list(zip(starts.tolist(), (starts + lengths).tolist()))
        tokens = [text[a:b] for a, b in spans]
        if self.familiar is not None:
            roles = token_roles(lines, offsets, starts, tokens)
            vouched = self.familiar.contains(tokens, roles, brailles).tolist()
        else:
            vouched = [False] * len(tokens)
        for (a, b), token, braille, ok in zip(spans, tokens, brailles, vouched):
            if ok:
                continue
            asked[a:b] = True
            if not agrees(self.tables, token, braille):
                differ[a:b] = True
        return asked, differ


def token_spans(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of every space-separated token (a run of characters other than U+0020)
    of the concatenated lines, never across lines, as ``str.split(" ")`` cuts each line."""
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    space = points == ord(" ")
    boundary = np.zeros(n, dtype=bool)
    boundary[0] = True
    boundary[1:] = space[1:] != space[:-1]
    boundary[offsets[:-1][offsets[:-1] < n]] = True
    starts = np.flatnonzero(boundary)
    lengths = np.diff(np.r_[starts, n])
    keep = ~space[starts]
    return starts[keep], lengths[keep]


def whole_tokens(mask: np.ndarray, points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``mask`` grown to the whole of every space-separated token it touches."""
    out = np.zeros(len(mask), dtype=bool)
    if not mask.any():
        return out
    starts, lengths = token_spans(points, offsets)
    before = np.r_[0, np.cumsum(mask)]
    for a, n in zip(starts.tolist(), lengths.tolist()):
        if before[a + n] > before[a]:
            out[a:a + n] = True
    return out
