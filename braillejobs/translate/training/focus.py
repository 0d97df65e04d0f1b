"""Where the CNN is unsure: the positions a fallback model should train on.

In the ``auto`` chain the BiLSTM only ever sees the words the CNN hands it, which are the hard
ones (rare names and symbols, capital passages, code). Trained on uniform windows it spends
nearly all its steps on text the CNN already writes right. ``hard_positions`` runs a CNN over a
spread sample of the labelled training stream and returns the positions whose word the CNN is
unsure of (its least sure character under ``threshold``, as in ``neural.unsure_chars``); the
trainer then centres a share of its windows on them (``TrainOptions.focus``).

The result is cached next to the corpus, keyed by the CNN's version, the threshold and the
stream's digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import checkpoint as ckpt_mod
from ..neural import Tagger
from ..vocab import SEPARATOR, Vocab
from .corpus import read_lines

PIECE = 1 << 20          # characters tagged at a time


def stream_text(x: np.ndarray, vocab: Vocab, corpus_dir: Path | None = None) -> str:
    """The text of a labelled stream of input ids: the corpus's own lines when they make it
    (no line was dropped in labelling), else spelled from the ids (unknown characters become
    U+FFFD)."""
    if corpus_dir is not None:
        lines = read_lines(Path(corpus_dir) / "train.txt")
        text = SEPARATOR + SEPARATOR.join(lines) + SEPARATOR
        if len(text) == len(x):
            return text
    points = np.array([ord(c) if len(c) == 1 else 0xFFFD for c in vocab.chars], dtype=np.uint32)
    points[0] = ord(SEPARATOR)                       # padding never occurs inside a stream
    return points[np.asarray(x, dtype=np.int64)].tobytes().decode("utf-32-le")


def hard_positions(text: str, cnn_path: Path, cache_dir: Path, *,
                   threshold: float = 0.999, sample_chars: int = 16 << 20,
                   device: str = "cpu", progress: Callable[[dict], None] | None = None
                   ) -> np.ndarray:
    """Positions of ``text`` (a training stream; sorted int64) in words the CNN at
    ``cnn_path`` is unsure of, found in ``sample_chars`` characters spread evenly over it."""
    ckpt = ckpt_mod.load(cnn_path)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    cache = Path(cache_dir) / f"focus-{ckpt.version}-{threshold}-{sample_chars}-{digest}.npy"
    if cache.exists():
        return np.load(cache)
    tagger = Tagger(ckpt, torch.device(device))
    n = len(text)
    pieces = max(1, min(n // PIECE, sample_chars // PIECE)) if n > PIECE else 1
    size = min(n, PIECE)
    starts = np.linspace(0, max(0, n - size), pieces).astype(np.int64)
    space = tagger.vocab.encode(" ")
    space_id = int(space[0]) if len(space) else -1
    sep_id = int(tagger.vocab.encode(SEPARATOR)[0])
    found = []
    for k, a in enumerate(starts.tolist()):
        ids = tagger.vocab.encode(text[a:a + size])
        pred, conf = tagger.tag_stream(ids)
        unsure = _unsure_words(ids, pred, conf, threshold, space_id, sep_id, tagger)
        found.append(a + np.flatnonzero(unsure))
        if progress:
            progress({"phase": "focus", "chars": (k + 1) * size, "of": pieces * size})
    out = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    np.save(cache, out)
    return out


def _unsure_words(ids: np.ndarray, pred: np.ndarray, conf: np.ndarray, threshold: float,
                  space_id: int, sep_id: int, tagger: Tagger) -> np.ndarray:
    """Mask of the characters in unsure segments, segmented as the auto chain does
    (``neural.unsure_chars``: runs of non-spaces and runs of spaces, never across a line
    break), a segment being as sure as its least sure character."""
    from ..vocab import UNK_CHUNK, UNK_ID

    sep = ids == sep_id
    kind = np.where(sep, 2, (ids == space_id).astype(np.int8))
    boundary = np.ones(len(ids), dtype=bool)
    boundary[1:] = (kind[1:] != kind[:-1]) | sep[1:] | sep[:-1]
    starts = np.flatnonzero(boundary)
    lengths = np.diff(np.r_[starts, len(ids)])
    score = np.where((ids == UNK_ID) | (pred == UNK_CHUNK), -1.0, conf)
    low = np.minimum.reduceat(score, starts) < threshold
    return np.repeat(low, lengths) & ~sep
