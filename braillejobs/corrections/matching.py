"""Where corrections apply in a line of print: their print text standing alone, in any
capitalisation, as liblouis applies a table's ``word`` rules (and UEB reads a word "standing
alone"): after the line's start, a space, a hyphen or dash or opening punctuation; before the
line's end, a space, a hyphen or dash, closing punctuation or an apostrophe (``knowledge's``).
The punctuation must itself end the symbols-sequence: opening punctuation after the line's
start, a space or a dash, closing punctuation before the line's end, a space or a dash
(``knowledge,(x)`` is one sequence). A letter, a digit, a slash or an underscore next to it
makes it part of something else (``knowledgeable``, ``knowledge/power``). Checked against
liblouis applying the corrections table in 665 contexts (tests/corrections/test_matching.py).

The neural engines use these spans to hand corrected words to liblouis, and documents count
the corrections they used from them.
"""

from __future__ import annotations

import re
from typing import Iterable

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015"
_BEFORE = "\\s" + _DASHES + "(\\[{\"'\u201c\u2018"
_AFTER = "\\s" + _DASHES + ")\\]}\"'\u201d\u2019.,;:!?\u2026"


_OPENING = set("([{\"'\u201c\u2018")
_CLOSING = set(")]}\"'\u201d\u2019.,;:!?\u2026")
_EDGE = set("-\u2010\u2011\u2012\u2013\u2014\u2015")
_APOSTROPHES = set("'\u2019")


def _alone(line: str, start: int, end: int) -> bool:
    """Whether the punctuation around ``line[start:end]`` leaves it a word of its own: the
    opening punctuation before it follows the line's start, a space or a dash, and the closing
    punctuation after it comes before the line's end, a space or a dash (``knowledge,(x)`` and
    ``x,(knowledge`` are one symbols-sequence with their neighbours); an apostrophe and letters
    may follow it (``knowledge's``)."""
    i = start
    while i > 0 and line[i - 1] in _OPENING:
        i -= 1
    if i > 0 and i < start and not (line[i - 1].isspace() or line[i - 1] in _EDGE):
        return False
    j = end
    if j + 1 < len(line) and line[j] in _APOSTROPHES and line[j + 1].isalpha():
        return True
    while j < len(line) and line[j] in _CLOSING:
        j += 1
    return j == end or j == len(line) or line[j].isspace() or line[j] in _EDGE


class Matcher:
    """Finds the corrections' print texts standing alone in lines (longest first)."""

    def __init__(self, prints: Iterable[str]):
        self.prints = sorted({p.lower() for p in prints if p}, key=lambda p: (-len(p), p))
        if self.prints:
            body = "|".join(re.escape(p).replace("\\ ", " ") for p in self.prints)
            self._re = re.compile(f"(?<![^{_BEFORE}])(?:{body})(?![^{_AFTER}])", re.IGNORECASE)
        else:
            self._re = None

    def __bool__(self) -> bool:
        return self._re is not None

    def spans(self, line: str) -> list[tuple[int, int, str]]:
        """(start, end, print text) of each use in ``line``, left to right, never overlapping."""
        if self._re is None:
            return []
        return [(m.start(), m.end(), m.group(0).lower()) for m in self._re.finditer(line)
                if _alone(line, m.start(), m.end())]

    def count(self, lines: Iterable[str]) -> dict[str, int]:
        """How often each correction is used in ``lines``."""
        used: dict[str, int] = {}
        for line in lines:
            for _a, _b, text in self.spans(line):
                used[text] = used.get(text, 0) + 1
        return used
