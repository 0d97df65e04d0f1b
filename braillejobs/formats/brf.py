"""BRF: pages of North American ASCII braille, CRLF line ends, a form feed after every page but
the last."""

from __future__ import annotations

from typing import Sequence

from .layout import Page

# North American ASCII braille: the character for each 6-dot pattern 0..63 (bit k = dot k+1).
NABCC = " A1B'K2L@CIF/MSP\"E3H9O6R^DJG>NTQ,*5<-U8V.%[$+X!&;:4\\0Z7(_?W]#Y)="
_TO_BRF = {0x2800 + i: NABCC[i] for i in range(64)}
_TO_BRF.update({0x2800 + i: NABCC[i & 0x3F] for i in range(64, 256)})  # dots 7-8 dropped
_FROM_BRF = {ord(c): 0x2800 + i for i, c in enumerate(NABCC)}
_FROM_BRF.update({ord(c.lower()): 0x2800 + i for i, c in enumerate(NABCC) if c.isalpha()})
_FROM_BRF.update({ord("`"): 0x2808, ord("{"): 0x282A, ord("|"): 0x2833, ord("}"): 0x283B,
                  ord("~"): 0x2818})


def to_brf(braille: str) -> str:
    """ASCII braille for Unicode braille; characters that are not braille become spaces."""
    out = braille.translate(_TO_BRF)
    if out.isascii():
        return out
    return "".join(c if c.isascii() else " " for c in out)


def from_brf(text: str) -> str:
    """Unicode braille for ASCII braille (lower-case letters and the 8-bit variants accepted)."""
    return text.translate(_FROM_BRF)


def write_brf(pages: Sequence[Page]) -> bytes:
    body = "\f".join("".join(to_brf(row) + "\r\n" for row in page.rows) for page in pages)
    return body.encode("ascii")
