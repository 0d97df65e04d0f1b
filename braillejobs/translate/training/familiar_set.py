"""Building the familiar words set (``..familiar``) from a corpus: every token of every line
with its capitals role and liblouis's braille for it, hashed, in parallel shards as the labels
are made (``labels.in_processes``)."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from ..capitals import text_roles
from ..familiar import line_pairs, pair_hash
from ..louis_engine import AlignmentError
from .labels import in_processes, shards

SHARD_LINES = 2000


def _shard_hashes(args: tuple[list[str], str]) -> tuple[set[int], int, int]:
    lines, table = args
    seen: set[int] = set()
    skipped = 0
    for line, roles in zip(lines, text_roles(lines)):
        try:
            seen.update(pair_hash(*pair) for pair in line_pairs(line, table, roles))
        except (AlignmentError, RuntimeError):
            skipped += 1
    return seen, skipped, len(lines)


def build(lines: Iterable[str], table: str, workers: int | None = 1,
          progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, int]:
    """The sorted unique hashes of every token of ``lines`` and the number of lines skipped
    because liblouis's braille could not be cut at their characters. ``workers`` processes
    share the work (None: one a CPU; 1: this process); ``progress`` is told the lines done."""
    seen: set[int] = set()
    skipped = done = 0
    results = (map(_shard_hashes, shards(lines, SHARD_LINES, table)) if workers == 1 else
               in_processes(_shard_hashes, lines, SHARD_LINES, (table,), workers))
    for part, bad, count in results:
        seen |= part
        skipped += bad
        done += count
        if progress:
            progress(done)
    return np.unique(np.fromiter(seen, dtype=np.uint32, count=len(seen))), skipped
