"""Braille as a transcriber types it: Unicode braille cells, or BRF (North American ASCII braille,
any letter case), read into Unicode braille with U+2800 for each space."""

from __future__ import annotations

from ..formats.brf import NABCC, from_brf, to_brf
from . import CorrectionError

BLANK = "\u2800"
_BRF = set(NABCC) | set(NABCC.lower())


def read_braille(text: str) -> str:
    """Unicode braille for ``text`` (Unicode cells or BRF); runs of spaces become one blank
    cell, and leading or trailing ones go. Six-dot cells only: UEB has no dots 7 and 8."""
    if not isinstance(text, str):
        raise CorrectionError("the braille must be text")
    words = text.replace(BLANK, " ").split()
    if not words:
        raise CorrectionError("the braille is empty")
    if any("\n" in w or "\r" in w for w in words):
        raise CorrectionError("the braille must be on one line")
    joined = " ".join(words)
    if any(0x2800 <= ord(c) <= 0x28FF for c in joined):
        wrong = sorted({c for c in joined if c != " " and not 0x2800 <= ord(c) <= 0x283F})
        if wrong:
            raise CorrectionError(
                "the braille mixes Unicode braille with other characters or uses dots 7-8: "
                + ", ".join(repr(c) for c in wrong[:10]) + "; give six-dot Unicode braille "
                "or BRF, not both")
        return joined.replace(" ", BLANK)
    wrong = sorted({c for c in joined if c not in _BRF})
    if wrong:
        raise CorrectionError("the braille is neither Unicode braille nor BRF: "
                              + ", ".join(repr(c) for c in wrong[:10]) + " are not braille")
    return from_brf(joined.upper())   # the space is the blank cell in BRF too


def brf(braille: str) -> str:
    """BRF (upper-case ASCII braille) for Unicode braille."""
    return to_brf(braille)
