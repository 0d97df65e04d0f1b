"""The check a correction passes before it is stored: liblouis reads its braille back (back-
translation with the same table) as its print text. It catches braille typed for another word, a
missing capital indicator, BRF given where Unicode was meant; where liblouis's back-translation
is wrong (a rare word, a contraction it misreads) the user adds the correction with ``force``."""

from __future__ import annotations

from ..translate.louis_engine import load_louis
from .braille import BLANK


def back_translate(braille: str, table: str) -> str:
    louis = load_louis()
    return louis.backTranslateString([table], braille.replace(" ", BLANK))


def refusal(print_text: str, braille: str, table: str) -> str | None:
    """Why liblouis does not read ``braille`` back as ``print_text`` (None: it does)."""
    back = back_translate(braille, table)
    if back == print_text:
        return None
    if back.lower() == print_text.lower():
        return (f"liblouis reads the braille back as {back!r}: it carries capital indicators; "
                "give it without them (each use gets the indicators its form needs)")
    return (f"liblouis ({table}) reads the braille back as {back!r}, not {print_text!r}: check "
            f"the braille, or add it with --force where liblouis misreads it")
