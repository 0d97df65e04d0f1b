"""Where a symbols-sequence longer than a braille line may be divided, and with which sign.

BANA *Braille Formats* 2016 §1.10: a word is not divided between braille lines unless it cannot
fit on a whole line. When one must be, the reader has to see that the line break is not a space,
and neither part may read as something else. The rules followed (choices in README's formats
section):

* **Never inside a sign.** A division falls only between the cells of two different print
  characters, never inside a contraction, a shortform, or a multi-cell symbol such as ``⠸⠌``
  (slash) or ``⠠⠠`` (capitals); found from liblouis's map of each cell to the print character
  it came from.
* **At a print hyphen** (UEB 10.13.5): after it, with nothing added.
* **Numbers** (UEB 6.10): after a comma or point between digits where one fits, otherwise
  between two digits; the first part ends with the line continuation indicator ``⠐`` (dot 5).
  Numeric mode continues on the next line: no new numeric indicator.
* **Words** (UEB 10.13): between syllables (hyphenation patterns), with a hyphen ``⠤`` at the end
  of the first part. The braille of the whole word is kept, so capitals word mode and the
  contractions carry on as the undivided word has them (a hyphen inserted at a division does not
  end capitals word mode, UEB 8.4). Not where the last sign before or the first sign after the
  division is a lower groupsign for ea, bb, cc, ff or gg (10.13.6), nor where the new line would
  begin with a final-letter groupsign or ``ing`` (10.13.7, 10.13.8).
* **Web addresses, e-mail addresses, paths and other symbol sequences**: after a slash, point,
  at sign, underscore or similar, with ``⠐`` at the end of the first part; between letters only
  when nothing else fits.
* Where nothing above fits on the line, between any two signs with ``⠐``.

:class:`Divider` finds, for one translated line, where a part of a long token ends and the sign
that closes it; the paginator asks it for each line such a token fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

BLANK = "\u2800"
HYPHEN = "\u2824"  # dots 3-6
CONTINUATION = "\u2810"  # dot 5: line continuation indicator
_LOWER_PAIRS = set("\u2802\u2806\u2812\u2816\u2836")  # ea bb cc ff gg (lower groupsigns)
_FINAL_PREFIXES = set("\u2828\u2830")  # dots 4-6, dots 5-6: final-letter groupsigns
_ING = "\u282c"
_AFTER_SYMBOL = set("/\\.@_?&=#:;~+%|,")  # a symbols-sequence may be divided after these

# how good a division is: the lowest class that fits on the line is taken, its last position
AT_HYPHEN, AT_SEPARATOR, BETWEEN, FALLBACK = 0, 1, 2, 3


@dataclass(frozen=True)
class Break:
    sign: str  # cells that end the first part ("" after a print hyphen)
    rank: int  # AT_HYPHEN, AT_SEPARATOR, BETWEEN or FALLBACK


@lru_cache(maxsize=1)
def _hyphenator():
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def _syllable_starts(word: str) -> set[int]:
    """Offsets in ``word`` (letters only) where a new syllable starts."""
    if len(word) < 4:
        return set()
    return set(_hyphenator().positions(word.lower()))


class Divider:
    """The divisions of one translated line: ``text`` its print, ``braille`` its cells and
    ``positions[i]`` the index in ``text`` of the print character cell ``i`` came from.

    Work is done only where a division is looked for, so a token of megabytes costs time in
    proportion to its length (two passes over its positions), not to its length squared."""

    def __init__(self, text: str, braille: str, positions: Sequence[int],
                 code: bool = False) -> None:
        self.text, self.braille, self.code = text, braille, code
        self.positions = list(positions)
        self._token: tuple[int, int] | None = None
        self._before_max = self._after_min = None
        self._syllables: dict[tuple[int, int], set[int]] = {}

    def _prepare(self, start: int, end: int) -> None:
        """Prefix maxima and suffix minima of the print positions of token [start, end)."""
        import numpy as np

        if self._token == (start, end):
            return
        pos = np.asarray(self.positions[start:end], dtype=np.int64)
        self._before_max = np.concatenate(([-1], np.maximum.accumulate(pos)[:-1])).tolist()
        self._after_min = np.minimum.accumulate(pos[::-1])[::-1].tolist()
        self._token = (start, end)

    def choose(self, start: int, end: int, part: int, limit: int) -> tuple[int, str] | None:
        """Where to end the part of token [start, end) that begins at ``part`` (offsets in the
        line), given ``limit`` cells for it and its closing sign: (offset, sign) of the last
        division of the best class that fits, or None when none does."""
        self._prepare(start, end)
        best: tuple[int, int, str] | None = None
        for c in range(min(part + limit, end - 1), part, -1):
            brk = self._break(start, end, c)
            if brk is None or c - part + len(brk.sign) > limit:
                continue
            if best is None or brk.rank < best[0]:
                best = (brk.rank, c, brk.sign)
                if brk.rank == AT_HYPHEN:
                    break
        return None if best is None else (best[1], best[2])

    def _break(self, start: int, end: int, c: int) -> Break | None:
        text, braille, positions = self.text, self.braille, self.positions
        i = c - start
        k = positions[c]
        if not (self._before_max[i] < k == self._after_min[i]) or k == 0:
            return None
        a, b = text[k - 1], text[k]
        if "\u2800" <= a <= "\u28ff":
            return None  # braille the layout wrote (an indicator) stays with what follows it
        if self.code:  # a hyphen could be read as part of the code: dot 5, after a symbol
            return Break(CONTINUATION, AT_SEPARATOR if a in _AFTER_SYMBOL else BETWEEN)
        if a == "-" and b != "-":
            return Break("", AT_HYPHEN)
        if b.isdigit() and (a.isdigit() or (a in ",." and k >= 2 and text[k - 2].isdigit())):
            return Break(CONTINUATION, AT_SEPARATOR if a in ",." else BETWEEN)
        if a.isalpha() and b.isalpha():
            last_sign = _sign_cells(braille, positions, c - 1, backwards=True)
            next_sign = _sign_cells(braille, positions, c, backwards=False)
            if _lower_pair(last_sign) or _lower_pair(next_sign) or next_sign == _ING or \
                    (len(next_sign) == 2 and next_sign[0] in _FINAL_PREFIXES):
                return None  # UEB 10.13.6-8: such a sign may not end or begin a divided part
            run = _letters_run(text, k)
            if run not in self._syllables:
                word = text[run[0]:run[1]]
                self._syllables[run] = {run[0] + p for p in _syllable_starts(word)} \
                    if len(word) <= MAX_SYLLABLE_WORD else set()
            syllable = k in self._syllables[run] and k - run[0] >= 2 and run[1] - k >= 2
            return Break(HYPHEN, BETWEEN if syllable else FALLBACK)
        if a in _AFTER_SYMBOL and b not in _AFTER_SYMBOL:
            return Break(CONTINUATION, AT_SEPARATOR)
        return Break(CONTINUATION, FALLBACK)


MAX_SYLLABLE_WORD = 100  # longer runs of letters are divided anywhere (no syllables to find)


def _letters_run(text: str, k: int) -> tuple[int, int]:
    """The run of letters around the division at ``k`` (bounded: a run of megabytes of letters
    is looked at near ``k`` only)."""
    a = k
    while a > 0 and text[a - 1].isalpha() and k - a <= MAX_SYLLABLE_WORD:
        a -= 1
    b = k
    while b < len(text) and text[b].isalpha() and b - k <= MAX_SYLLABLE_WORD:
        b += 1
    return a, b


def _sign_cells(braille: str, positions, i: int, backwards: bool) -> str:
    """The cells of the sign that cell ``i`` belongs to (cells from one print character)."""
    k = positions[i]
    j = i
    if backwards:
        while j > 0 and positions[j - 1] == k and braille[j - 1] != BLANK:
            j -= 1
        return braille[j:i + 1]
    while j + 1 < len(braille) and positions[j + 1] == k and braille[j + 1] != BLANK:
        j += 1
    return braille[i:j + 1]


def _lower_pair(sign: str) -> bool:
    return len(sign) == 1 and sign in _LOWER_PAIRS


def dividers_for(lines: Sequence[str], typeforms: Sequence[Sequence[int] | None] | None,
                 braille: list[str], longest: dict[int, int], table: str,
                 code: frozenset[int] | set[int] = frozenset()
                 ) -> tuple[dict[int, Divider], list[int]]:
    """Dividers for the translated lines that hold a token longer than ``longest[line]`` cells.

    The print character behind each cell comes from liblouis. Where the engine's braille for
    such a line is not liblouis's (a neural engine that wrote it otherwise), the line takes
    liblouis's braille, the reference, so that every division is made on known signs: those
    lines are returned and ``braille`` is changed in place. Lines in ``code`` are computer code:
    divided with the line continuation indicator only."""
    import re

    from ..translate.louis_engine import line_with_positions

    out: dict[int, Divider] = {}
    replaced: list[int] = []
    patterns: dict[int, re.Pattern] = {}
    for i, cells in enumerate(braille):
        limit = longest.get(i)
        if limit is None or len(cells) <= limit:
            continue
        pattern = patterns.get(limit)
        if pattern is None:
            pattern = patterns[limit] = re.compile(f"[^{BLANK}]{{{limit + 1}}}")
        if pattern.search(cells) is None:
            continue
        typeform = typeforms[i] if typeforms is not None else None
        reference, positions = line_with_positions(table, lines[i], typeform)
        if reference != cells:
            braille[i] = reference
            replaced.append(i)
        out[i] = Divider(lines[i], reference, positions, code=i in code)
    return out, replaced
