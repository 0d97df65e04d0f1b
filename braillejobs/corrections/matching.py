"""Where corrections apply in a line of print: their print text standing alone, in any
capitalisation, as liblouis applies a table's ``word`` rules (and UEB reads a word "standing
alone"): after the line's start, a space, a hyphen or dash or opening punctuation; before the
line's end, a space, a hyphen or dash, closing punctuation or an apostrophe (``knowledge's``).
A letter, a digit, a slash or an underscore next to it makes it part of something else
(``knowledgeable``, ``knowledge/power``).

The neural engines use these spans to hand corrected words to liblouis, and documents count
the corrections they used from them.
"""

from __future__ import annotations

import re
from typing import Iterable

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015"
_BEFORE = "\\s" + _DASHES + "(\\[{\"'\u201c\u2018"
_AFTER = "\\s" + _DASHES + ")\\]}\"'\u201d\u2019.,;:!?\u2026"


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
        return [(m.start(), m.end(), m.group(0).lower()) for m in self._re.finditer(line)]

    def count(self, lines: Iterable[str]) -> dict[str, int]:
        """How often each correction is used in ``lines``."""
        used: dict[str, int] = {}
        for line in lines:
            for _a, _b, text in self.spans(line):
                used[text] = used.get(text, 0) + 1
        return used
