"""Input and output vocabularies of the taggers, with vectorised encoding and decoding.

Characters map to ids through a dense table over all code points (no per-character Python loop);
chunk ids map back to braille through one flat array of every chunk's cells, gathered with numpy.
The ``ESCAPE`` chunk (liblouis's escape for a character its table does not define) is spelled
from the input code point, also vectorised. Both vocabularies travel inside every checkpoint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .chunks import ESCAPE, ESCAPE_WIDTH, escape_cells, escape_lengths, key_to_chunk

PAD_ID, UNK_ID, SEP_ID = 0, 1, 2          # input ids
EMPTY_CHUNK, UNK_CHUNK = 0, 1             # output ids
SEPARATOR = "\n"                          # joins lines in a stream; never inside a line
_N_CODEPOINTS = 0x110000


@dataclass
class Vocab:
    chars: list[str]          # id -> character; ids 0..2 are pad, unknown, separator
    chunk_keys: list[int]     # id -> packed chunk key; ids 0..1 are empty and unknown

    def __post_init__(self) -> None:
        self.char_table = np.full(_N_CODEPOINTS, UNK_ID, dtype=np.int64)
        for i, ch in enumerate(self.chars):
            if i >= SEP_ID and ch:
                self.char_table[ord(ch)] = i
        self.escape_id = self.chunk_keys.index(ESCAPE) if ESCAPE in self.chunk_keys else -1
        self.chunk_strings = ["" if i == UNK_CHUNK or k == ESCAPE else key_to_chunk(k)
                              for i, k in enumerate(self.chunk_keys)]
        # Every chunk's cells end to end in one flat array, then room for one escape: chunk i is
        # flat[start[i]:start[i] + length[i]] (the tables the decoders gather from). Braille
        # cells, escapes too, are single UTF-16 code units: the output is decoded as UTF-16.
        points = [ord(c) for chunk in self.chunk_strings for c in chunk]
        self.flat = np.array(points + [0] * ESCAPE_WIDTH, dtype=np.uint16)
        self.length = np.array([len(c) for c in self.chunk_strings], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.length)[:-1]]).astype(np.int64)
        if self.escape_id >= 0:
            self.start[self.escape_id] = len(points)   # the room after the chunks
        known = [(k, i) for i, k in enumerate(self.chunk_keys) if i != UNK_CHUNK]
        known.sort()
        self._sorted_keys = np.array([k for k, _ in known], dtype=np.int64)
        self._sorted_ids = np.array([i for _, i in known], dtype=np.int64)

    @property
    def n_chars(self) -> int:
        return len(self.chars)

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_keys)

    # -- input ----------------------------------------------------------------------------------
    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (int64), unknown characters as UNK_ID."""
        return self.encode_points(code_points(text))

    def encode_points(self, points: np.ndarray) -> np.ndarray:
        """Character ids of code points (see ``code_points``)."""
        return self.char_table[points]

    # -- output ---------------------------------------------------------------------------------
    def chunk_ids(self, keys: np.ndarray) -> np.ndarray:
        """Chunk ids for packed keys; keys outside the vocabulary become UNK_CHUNK."""
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.clip(np.searchsorted(self._sorted_keys, keys), 0, len(self._sorted_keys) - 1)
        found = self._sorted_keys[pos] == keys
        return np.where(found, self._sorted_ids[pos], UNK_CHUNK)

    def decode(self, ids: np.ndarray, points: np.ndarray | None = None) -> str:
        """Braille for a sequence of chunk ids: the chunks joined, in one vectorised step."""
        return self.decode_many(ids, [len(ids)], points)[0]

    def decode_many(self, ids: np.ndarray, lengths: Iterable[int],
                    points: np.ndarray | None = None) -> list[str]:
        """Decode several lines at once: ``ids`` is their concatenation, ``lengths`` their sizes.
        Escapes are spelled from ``points``, the input code points at the same positions
        (without them, escapes come out empty).

        A few passes of numpy over the output cells, no Python loop over characters: each
        position's cells are ``flat[start[id]:start[id] + length[id]]``, so the output is one
        gather from ``flat`` at ``repeat(start[id] - first output index, length) + arange``."""
        ids = np.asarray(ids, dtype=np.int64)
        bounds = np.concatenate([[0], np.cumsum(np.fromiter(lengths, dtype=np.int64))])
        if len(bounds) == 1:
            return []
        length = self.length[ids]
        where = np.zeros(0, dtype=np.int64)
        if self.escape_id >= 0 and points is not None and len(ids):
            where = np.flatnonzero(ids == self.escape_id)
            length[where] = escape_lengths(np.asarray(points)[where])
        ends = np.cumsum(length)
        total = int(ends[-1]) if len(ends) else 0
        firsts = ends - length
        source = np.repeat(self.start[ids] - firsts, length)
        source += np.arange(total, dtype=np.int64)
        out = self.flat[source]
        if len(where):
            write_escapes(out, firsts[where], np.asarray(points)[where])
        text = out.tobytes().decode("utf-16-le")
        cut = np.concatenate([[0], ends])[bounds].tolist()
        return [text[a:b] for a, b in zip(cut, cut[1:])]

    def spans(self, ids: np.ndarray, points: np.ndarray, starts: np.ndarray,
              lengths: np.ndarray) -> list[str]:
        """The braille of each span (``starts``, ``lengths``) of a stream of chunk ids, in one
        decoding pass over the spans' positions only."""
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return self.decode_many(np.asarray(ids)[at], lengths.tolist(), np.asarray(points)[at])

    def chunks(self, ids: np.ndarray, points: np.ndarray | None = None) -> list[str]:
        """The chunk of every position, as strings (escapes spelled from ``points``)."""
        if len(ids) == 0:
            return []
        return self.decode_many(ids, [1] * len(ids), points)

    def chunk_map(self, other: "Vocab") -> np.ndarray:
        """For each chunk id of ``other``, the id of the same chunk here (UNK_CHUNK if absent)."""
        out = self.chunk_ids(np.array([max(k, 0) for k in other.chunk_keys], dtype=np.int64))
        out[UNK_CHUNK] = UNK_CHUNK
        if other.escape_id >= 0:
            out[other.escape_id] = self.escape_id if self.escape_id >= 0 else UNK_CHUNK
        return out

    def with_escape(self) -> "Vocab":
        """This vocabulary with the ESCAPE chunk appended (ids of the others unchanged)."""
        if self.escape_id >= 0:
            return self
        return Vocab(list(self.chars), list(self.chunk_keys) + [ESCAPE])

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"chars": self.chars, "chunk_keys": self.chunk_keys}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocab":
        return cls(list(data["chars"]), [int(k) for k in data["chunk_keys"]])

    @classmethod
    def build(cls, char_counts: Counter, key_counts: Counter, *, max_chunks: int = 1024,
              min_char_count: int = 3) -> "Vocab":
        """Most frequent characters and chunks first; ties broken by value, so it is deterministic."""
        chars = ["", "", SEPARATOR]
        for ch, n in sorted(char_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if n >= min_char_count and ch != SEPARATOR:
                chars.append(ch)
        keys = [0, -1]
        for key, _n in sorted(key_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if (key > 0 or key == ESCAPE) and len(keys) < max_chunks:
                keys.append(int(key))
        return cls(chars, keys)


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32, in one step."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def write_escapes(out: np.ndarray, firsts: np.ndarray, points: np.ndarray) -> None:
    """Write the escapes of ``points`` into the decoded cells ``out`` (uint16), each from its
    output index in ``firsts``."""
    cells = escape_cells(points)
    values = cells[cells != 0]
    n = escape_lengths(points)
    out[np.repeat(firsts - (np.cumsum(n) - n), n) + np.arange(len(values))] = values
