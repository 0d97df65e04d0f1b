"""What a chunk is: the braille cells one input character gets, packed into an integer key, and
liblouis's escape for a character its table does not define, spelled from the code point.

Shared by the runtime (vocabularies, decoding) and the training labels (training/labels.py, whose
docstring tells how the chunks are made).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MAX_CELLS = 8
UNPACKABLE = -1
ESCAPE = -2
_BRAILLE_BASE = 0x2800
# liblouis's escape for an undefined character: apostrophe, backslash, x/y/z, hex digits, apostrophe
ESCAPE_OPEN, ESCAPE_CLOSE = "⠄⡳", "⠄"
ESCAPE_FORMS = ((0xFFFF, "⠭", 4), (0xFFFFF, "⠽", 5), (0x10FFFF, "⠵", 8))
HEX_CELLS = "⠚⠁⠃⠉⠙⠑⠋⠛⠓⠊⠁⠃⠉⠙⠑⠋"      # 0-9 as a-j, a-f as a-f (computer braille letters)
ESCAPE_WIDTH = len(ESCAPE_OPEN) + 1 + 8 + len(ESCAPE_CLOSE)


@lru_cache(maxsize=1 << 16)
def chunk_key(chunk: str) -> int:
    """Pack a chunk into an integer key (see module docstring); -1 if it cannot be packed."""
    if len(chunk) > MAX_CELLS:
        return UNPACKABLE
    key = 0
    for i, ch in enumerate(chunk):
        dots = ord(ch) - _BRAILLE_BASE
        if not 0 <= dots < 64:
            return UNPACKABLE
        key |= dots << (6 * i)
    return key | (len(chunk) << 48)


# (highest code point, cells) of each escape form
ESCAPE_LENGTHS = tuple((limit, len(ESCAPE_OPEN) + 1 + digits + len(ESCAPE_CLOSE))
                       for limit, _letter, digits in ESCAPE_FORMS)
_HEX = np.array([ord(c) for c in HEX_CELLS], dtype=np.uint32)


def escape_lengths(points: np.ndarray) -> np.ndarray:
    """How many cells liblouis's escape of each code point has."""
    points = np.asarray(points, dtype=np.int64)
    out = np.full(len(points), ESCAPE_LENGTHS[-1][1], dtype=np.int64)
    for limit, n in reversed(ESCAPE_LENGTHS[:-1]):
        out[points <= limit] = n
    return out


def escape_cells(points: np.ndarray) -> np.ndarray:
    """liblouis's escape of each code point, as [n, ESCAPE_WIDTH] cell code points (0-padded)."""
    points = np.asarray(points, dtype=np.int64)
    out = np.zeros((len(points), ESCAPE_WIDTH), dtype=np.uint32)
    lower = -1
    for limit, letter, digits in ESCAPE_FORMS:
        rows = np.flatnonzero((points > lower) & (points <= limit))
        lower = limit
        if not len(rows):
            continue
        head = [ord(c) for c in ESCAPE_OPEN + letter]
        out[rows, :len(head)] = head
        shifts = 4 * np.arange(digits - 1, -1, -1)
        out[rows, len(head):len(head) + digits] = _HEX[(points[rows, None] >> shifts) & 15]
        out[rows, len(head) + digits] = ord(ESCAPE_CLOSE)
    return out


def escape_chunk(ch: str) -> str:
    """The cells liblouis writes for a character its table does not define."""
    cells = escape_cells(np.array([ord(ch)]))[0]
    return "".join(map(chr, cells[cells != 0].tolist()))


def is_escape(ch: str, chunk: str) -> bool:
    """Whether ``chunk`` is liblouis's escape for ``ch`` (cheap for every other chunk)."""
    return chunk.startswith(ESCAPE_OPEN) and chunk == escape_chunk(ch)


def key_to_chunk(key: int) -> str:
    if key < 0:
        raise ValueError(f"key {key} has no chunk of its own")
    n = key >> 48
    return "".join(chr(_BRAILLE_BASE + ((key >> (6 * i)) & 63)) for i in range(n))
