"""Superscript and subscript: the UEB level indicators (UEB 3.24, 11.4).

A level indicator, superscript ⠔ (dots 3-5) or subscript ⠢ (dots 2-6), applies to the next item:
a whole number, or anything enclosed in braille grouping indicators ⠣ … ⠜ (UEB 11.4.1); so a
superscript or subscript of more than one number or letter is grouped. In contracted (grade 2)
text the indicators would read as the groupsigns "in" and "en", so each takes the grade 1 symbol
indicator ⠰ (UEB 3.24.1; 5.2), as does an opening grouping indicator (which reads as "gh") —
except right after a digit, where the numeric indicator has already set grade 1 mode for the
symbols-sequence (UEB 6.5), for the indicator and the grouping that follows it alike.

    x²   ⠭⠰⠔⠼⠃        CO₂  ⠠⠉⠠⠕⠰⠢⠼⠃        2¹⁰  ⠼⠃⠔⠼⠁⠚        x⁽ⁿ⁺¹⁾  ⠭⠰⠔⠰⠣⠝⠐⠖⠼⠁⠜

The indicators are written as braille cells into the print text the engine translates: every
engine passes Unicode braille through unchanged, so what follows them (a number, letters) is still
translated with its own indicators.
"""

from __future__ import annotations

import re
import unicodedata

from .blocks import LEVEL_MASK, SUPERSCRIPT, Inline, Span

SUPERSCRIPT_SIGN = "\u2814"  # dots 3-5
SUBSCRIPT_SIGN = "\u2822"  # dots 2-6
GRADE1 = "\u2830"  # dots 5-6
GROUP_OPEN, GROUP_CLOSE = "\u2823", "\u281c"  # dots 1-2-6, dots 3-4-5

_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def _level_chars() -> dict[str, tuple[str, bool]]:
    """Character → (its base form, whether it is a superscript) for Unicode's superscript and
    subscript characters."""
    chars: dict[str, tuple[str, bool]] = {}
    ranges = [(0x00B2, 0x00B3), (0x00B9, 0x00B9), (0x2070, 0x209C), (0x1D2C, 0x1D6A),
              (0x02B0, 0x02B8), (0x02E0, 0x02E4)]
    for lo, hi in ranges:
        for code in range(lo, hi + 1):
            ch = chr(code)
            name = unicodedata.name(ch, "")
            decomposition = unicodedata.decomposition(ch)
            if decomposition.startswith("<super>"):
                up = True
            elif decomposition.startswith("<sub>"):
                up = False
            else:
                continue
            if "SUPERSCRIPT" not in name and "SUBSCRIPT" not in name and \
                    "MODIFIER LETTER" not in name:
                continue
            chars[ch] = (unicodedata.normalize("NFKC", ch), up)
    return chars


LEVEL_CHARS = _level_chars()


def is_item(text: str) -> bool:
    """Whether ``text`` is one item for a level indicator (UEB 11.4.1): a whole number, one
    symbol, or one bracketed group."""
    if len(text) == 1 or _NUMBER.fullmatch(text) is not None:
        return True
    pairs = {"(": ")", "[": "]", "{": "}"}
    if text[0] in pairs and text[-1] == pairs[text[0]]:
        depth = 0
        for k, ch in enumerate(text):
            depth += (ch == text[0]) - (ch == text[-1])
            if depth == 0 and k < len(text) - 1:
                return False  # "(a)(b)": two groups
        return True
    return False


def level_text(base: str, up: bool, *, after: str = "", contracted: bool = True) -> str:
    """``base`` (print text) raised or lowered: the indicator cells, then ``base`` (grouped when
    it is more than one item), ready to go to an engine with the text around it."""
    base = base.strip()
    if not base:
        return ""
    indicator = SUPERSCRIPT_SIGN if up else SUBSCRIPT_SIGN
    grade1 = GRADE1 if contracted and not after[-1:].isdigit() else ""
    if is_item(base):
        return grade1 + indicator + base
    return grade1 + indicator + grade1 + GROUP_OPEN + base + GROUP_CLOSE


_ORDINALS = {"st", "nd", "rd", "th", "d"}


def apply(content: list[Inline], contracted: bool = True) -> list[Inline]:
    """Spans marked superscript or subscript (HTML ``<sup>``/``<sub>``, Word's raised and
    lowered runs) rewritten with level indicators; other inlines unchanged. An ordinal ending
    raised after a number (1<sup>st</sup>) is print ornament and stays on the line (UEB 2.3.2)."""
    if not any(isinstance(i, Span) and i.emphasis & LEVEL_MASK for i in content):
        return content
    out: list[Inline] = []
    previous = ""
    for item in content:
        if isinstance(item, Span) and item.emphasis & LEVEL_MASK:
            up = bool(item.emphasis & SUPERSCRIPT)
            flags = item.emphasis & ~LEVEL_MASK
            text = item.text
            if up and previous[-1:].isdigit() and text.strip().lower() in _ORDINALS:
                out.append(Span(text.strip(), flags))
            else:
                lead = " " if text[:1].isspace() else ""
                trail = " " if text[-1:].isspace() else ""
                out.append(Span(lead + level_text(text, up, after=previous,
                                                  contracted=contracted) + trail, flags))
        else:
            out.append(item)
        if isinstance(item, Span) and item.text:
            previous = item.text
    return out
