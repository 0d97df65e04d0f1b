"""Training labels from liblouis: per input character, the braille cells liblouis emitted there.

``louis.translate(..., mode=dotsIO|ucBrl)`` reports, for every output cell, the index of the input
character it came from. Where those indices never go backwards, the output is the concatenation,
in input order, of the cells of each character: a *chunk* per character, often empty (``the`` →
``⠮`` on ``t``, nothing on ``h`` and ``e``). English→UEB then becomes per-character tagging.

A chunk is packed into one integer *key*: six bits a cell (U+2800–U+283F), up to eight cells, and
the cell count in bits 48–51. Key 0 is the empty chunk. Chunks that cannot be packed (longer than
eight cells, or cells with dots 7–8) get key -1 and are left to the fallback engines.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .louis_engine import translate_with_positions

MAX_CELLS = 8
UNPACKABLE = -1
_BRAILLE_BASE = 0x2800


class AlignmentError(ValueError):
    """liblouis's position map for a line is not monotonic, so it cannot be split per character."""


def align(text: str, table: str, typeform: Sequence[int] | None = None) -> tuple[str, list[str]]:
    """liblouis's braille for ``text`` and its split into one chunk per input character.

    Invariant: ``"".join(chunks) == braille``. Raises AlignmentError when the position map goes
    backwards or points outside the input.
    """
    braille, in_pos = translate_with_positions(table, text, typeform)
    chunks = [""] * len(text)
    if not braille:
        return braille, chunks
    positions = np.asarray(in_pos, dtype=np.int64)
    if len(positions) != len(braille):
        raise AlignmentError(f"position map has {len(positions)} entries for {len(braille)} cells")
    if np.any(np.diff(positions) < 0) or positions[0] < 0 or positions[-1] >= len(text):
        raise AlignmentError("liblouis position map is not monotonic")
    # cells with the same input position are contiguous: cut the braille where the position changes
    starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
    ends = np.r_[starts[1:], len(braille)]
    for s, e in zip(starts.tolist(), ends.tolist()):
        chunks[positions[s]] = braille[s:e]
    return braille, chunks


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


def key_to_chunk(key: int) -> str:
    if key < 0:
        raise ValueError("key -1 has no chunk")
    n = key >> 48
    return "".join(chr(_BRAILLE_BASE + ((key >> (6 * i)) & 63)) for i in range(n))


def line_keys(text: str, table: str) -> np.ndarray:
    """The chunk key of every character of ``text`` (int64 array). Raises AlignmentError."""
    _braille, chunks = align(text, table)
    return np.fromiter((chunk_key(c) for c in chunks), dtype=np.int64, count=len(chunks))


def label_lines(lines: Iterable[str], table: str) -> tuple[list[str], list[np.ndarray], int]:
    """Keys for every line that aligns; returns (kept lines, their keys, number dropped)."""
    kept: list[str] = []
    keys: list[np.ndarray] = []
    dropped = 0
    for line in lines:
        try:
            k = line_keys(line, table)
        except (AlignmentError, RuntimeError):
            dropped += 1
            continue
        kept.append(line)
        keys.append(k)
    return kept, keys, dropped
