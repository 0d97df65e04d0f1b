"""Training labels from liblouis: per input character, the braille cells liblouis emitted there.

``louis.translate(..., mode=dotsIO|ucBrl)`` reports, for every output cell, the index of the input
character it came from. Where those indices never go backwards, the output is the concatenation,
in input order, of the cells of each character: a *chunk* per character, often empty (``the`` →
``⠮`` on ``t``, nothing on ``h`` and ``e``). English→UEB then becomes per-character tagging.

A chunk is packed into one integer *key*: six bits a cell (U+2800–U+283F), up to eight cells, and
the cell count in bits 48–51. Key 0 is the empty chunk. Chunks that cannot be packed (longer than
eight cells, or cells with dots 7–8) get key -1 and are left to the fallback engines.

Two refinements make more of liblouis's output representable (measured on the held-out split:
before them, five in six of the shipped CNN's wrong cells were chunks it could not express):

* **Escapes.** For a character its table does not define, liblouis writes an escape, ``'\\xhhhh'``
  in braille (``\\y`` with five hex digits, ``\\z`` with eight, beyond the basic plane). Such a
  chunk gets key ``ESCAPE``: one class the models predict, spelled from the code point when
  decoded (``chunks.escape_chunk``).
* **Lumped words.** liblouis often reports a whole word's cells at its first character (words in
  its dictionary, all-capital words: ``REVERSAL`` → nine cells on ``R``). When such a chunk is not
  one the models know, it is spread over the word's following empty positions: aligned with the
  lower-case word where that reproduces it (indicators stay on the first letter), else cut into
  the shortest known pieces, one a position. The join is unchanged: the invariant holds.

:func:`label_stream` labels many lines in parallel shards and joins them into one stream, the
lines separated as the models read them (the corpus for ``train``, a sample and context lines
for ``train --corrections``).
"""

from __future__ import annotations

import difflib
import multiprocessing as mp
import re
import time
from functools import lru_cache
from typing import Callable, Container, Iterable, Iterator

import numpy as np

from ..chunks import ESCAPE, MAX_CELLS, UNPACKABLE, chunk_key, is_escape
from ..louis_engine import AlignmentError, align
from ..vocab import SEPARATOR

BLANK = "\u2800"      # the blank cell: a space

Progress = Callable[[dict], None]


def _partition(chunk: str, m: int, known: Callable[[str], bool]) -> list[str] | None:
    """``chunk`` cut into ``m`` consecutive known pieces (some empty), shortest pieces first."""
    n = len(chunk)

    @lru_cache(maxsize=None)
    def rest(i: int, j: int) -> tuple[str, ...] | None:
        if i == n:
            return ("",) * (m - j)
        if j == m:
            return None
        for size in range(1, min(MAX_CELLS, n - i) + 1):
            piece = chunk[i:i + size]
            if known(piece):
                tail = rest(i + size, j + 1)
                if tail is not None:
                    return (piece,) + tail
        tail = rest(i, j + 1)            # this position stays empty
        return None if tail is None else ("",) + tail

    found = rest(0, 0)
    return list(found) if found is not None else None


def _owners(pieces: list[str]) -> list[int]:
    """For each cell of ``"".join(pieces)``, the index of the piece it is in."""
    return [i for i, piece in enumerate(pieces) for _cell in piece]


def _follow(chunk: str, braille: str, pieces: list[str]) -> list[str]:
    """``chunk`` cut as ``braille`` (a near spelling of it) is cut into ``pieces``: a cell
    they share stays with its character, a cell only ``chunk`` has goes to the character of
    the next shared cell (an indicator goes with the letter it is before), and a changed run to
    the character where the run it replaces starts (cell for cell when the two runs are as long).
    The join is ``chunk``."""
    owner = _owners(pieces)
    out = [""] * len(pieces)
    matcher = difflib.SequenceMatcher(None, braille, chunk, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):   # cell for cell
            for k in range(j2 - j1):
                out[owner[i1 + k]] += chunk[j1 + k]
        elif op in ("replace", "insert"):
            at = owner[i1] if i1 < len(owner) else len(pieces) - 1
            out[at] += chunk[j1:j2]
    return out


def _spread(chunk: str, word: str, table: str, known: Callable[[str], bool]) -> list[str] | None:
    """Known pieces of a lumped ``chunk`` over the characters of ``word`` (their join is
    ``chunk``), or None when there are none: cut as liblouis cuts the lower-case word's own
    braille (``_follow``: capital and grade 1 indicators, a corrected letter) where that gives
    known pieces, else into the shortest known pieces."""
    # with corrections listed first, a corrected word is cut as the base table spells it
    for spelling in dict.fromkeys((table, table.rsplit(",", 1)[-1])):
        try:
            braille, pieces = align(word.lower(), spelling)
        except (AlignmentError, RuntimeError):
            continue
        if braille and len(pieces) == len(word):
            followed = _follow(chunk, braille, pieces)
            if all(not p or known(p) for p in followed):
                return followed
    return _partition(chunk, len(word), known)


def _split_phrases(text: str, chunks: list[str]) -> list[str]:
    """A phrase's braille reported at its first character (a multi-word rule, such as a
    transcriber's correction for a phrase) cut at its spaces: each space gets its blank cell and
    each word its own braille, on its first character (``refine`` spreads it on). Left whole
    when the blank cells do not match the spaces one to one."""
    out = list(chunks)
    n = len(text)
    p = 0
    while p < n:
        c = out[p]
        q = p + 1
        while q < n and not out[q]:
            q += 1
        if c and any(ch.isspace() for ch in text[p + 1:q]):
            while q > p + 1 and text[q - 1].isspace():   # spaces after the phrase stay empty
                q -= 1
            words = re.split(r"(\s)", text[p:q])    # words (some empty) between spaces
            cells = c.split(BLANK)
            if len(cells) == len(words) // 2 + 1 and \
                    all(w or not cell for w, cell in zip(words[::2], cells)):
                at = p
                for i, w in enumerate(words):
                    if w:
                        out[at] = BLANK if i % 2 else cells[i // 2]
                    at += len(w)
        p = q
    return out


def refine(text: str, chunks: list[str], table: str,
           known: Callable[[str], bool] | None = None) -> list[str]:
    """Spread lumped chunks the models cannot express (see the module docstring).

    ``known(chunk)`` says whether the models' vocabulary holds a chunk; without it, only chunks
    that cannot be packed are spread. Escapes are left whole (they become ``ESCAPE``).
    """
    known = known or (lambda c: chunk_key(c) != UNPACKABLE)
    out = _split_phrases(text, chunks)
    n = len(text)
    for p in range(n):
        c = out[p]
        if not c or known(c) or is_escape(text[p], c):
            continue
        q = p + 1
        while q < n and not out[q] and not text[q].isspace():
            q += 1
        pieces = _spread(c, text[p:q], table, known) if q - p > 1 else None
        if pieces is not None:
            out[p:q] = pieces
    return out


def line_keys(text: str, table: str, known_keys: Container[int] | None = None) -> np.ndarray:
    """The chunk key of every character of ``text`` (int64 array). Raises AlignmentError.

    Escapes get ``ESCAPE``; lumped chunks outside ``known_keys`` are spread (``refine``)."""
    _braille, chunks = align(text, table)
    known = None
    if known_keys is not None:
        def known(c: str) -> bool:
            key = chunk_key(c)
            return key >= 0 and key in known_keys
    chunks = refine(text, chunks, table, known)
    return np.fromiter((ESCAPE if is_escape(ch, c) else chunk_key(c)
                        for ch, c in zip(text, chunks)), dtype=np.int64, count=len(chunks))


def label_lines(lines: Iterable[str], table: str, known_keys: Container[int] | None = None
                ) -> tuple[list[str], list[np.ndarray], int]:
    """Keys for every line that aligns; returns (kept lines, their keys, number dropped)."""
    kept: list[str] = []
    keys: list[np.ndarray] = []
    dropped = 0
    for line in lines:
        try:
            k = line_keys(line, table, known_keys)
        except (AlignmentError, RuntimeError):
            dropped += 1
            continue
        kept.append(line)
        keys.append(k)
    return kept, keys, dropped


def _label_shard(args: tuple[list[str], str, frozenset | None]) -> tuple[str, np.ndarray, int]:
    lines, table, known = args
    kept, keys, dropped = label_lines(lines, table, known)
    if not kept:
        return "", np.zeros(0, dtype=np.int64), dropped
    text = SEPARATOR.join(kept) + SEPARATOR
    parts = []
    for k in keys:
        parts.append(k)
        parts.append(np.zeros(1, dtype=np.int64))   # the separator emits nothing
    return text, np.concatenate(parts), dropped


def shards(lines: Iterable[str], size: int, *extra) -> Iterator[tuple]:
    """``lines`` in lists of ``size``, each as ``(list, *extra)``: the argument a shard's work
    takes in a process pool."""
    shard: list[str] = []
    for line in lines:
        shard.append(line)
        if len(shard) >= size:
            yield (shard, *extra)
            shard = []
    if shard:
        yield (shard, *extra)


def in_processes(work: Callable, lines: Iterable[str], size: int, extra: tuple,
                 workers: int | None) -> Iterator:
    """``work`` on every shard of ``lines`` (see ``shards``), in order, in ``workers`` spawned
    processes (None: one a CPU); the pool is ended however the caller's loop ends."""
    with mp.get_context("spawn").Pool(workers or max(1, mp.cpu_count())) as pool:
        yield from pool.imap(work, shards(lines, size, *extra), chunksize=1)


def label_stream(lines: Iterator[str], table: str, known: frozenset | None,
                 workers: int | None, progress: Progress | None, phase: str
                 ) -> tuple[str, np.ndarray, int]:
    """The lines labelled in parallel shards (``workers`` processes, default one a CPU) and
    joined into one stream, as the models read it: (text, a key per character, lines
    dropped)."""
    texts: list[str] = []
    keys: list[np.ndarray] = []
    dropped = 0
    done = 0
    started = time.monotonic()
    for text, k, d in in_processes(_label_shard, lines, 2000, (table, known), workers):
        texts.append(text)
        keys.append(k)
        dropped += d
        done += len(text)
        if progress:
            progress({"phase": phase, "chars": done, "seconds": time.monotonic() - started})
    text = SEPARATOR + "".join(texts)
    return text, np.concatenate([np.zeros(1, dtype=np.int64)] + keys), dropped
