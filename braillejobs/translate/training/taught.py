"""A labelled stream taught by the transcribers' corrections: for ``train --corrections``.

The teacher is liblouis with the corrections table listed before its own
(:mod:`braillejobs.corrections.table`), so a corrected word is labelled as the correction
writes it, with the indicators and punctuation liblouis puts around it, and every other word as
before. The stream is a sample of the corpus (``sample_chars`` characters of lines taken evenly
over it) and, for each correction, lines of the corpus with one of their words replaced by the
corrected print in varied forms (lower case, capitalised, all capitals; after opening and
before closing punctuation), so the model sees each correction in many contexts, not only where
the corpus happens to use it. The start of every corrected word in the stream is returned, for the
trainer to centre a share of its windows on.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..vocab import Vocab
from .corpus import read_lines
from .labels import label_stream

CONTEXTS = 48                 # lines made for each correction
_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]{3,}(?![\w'’-])")
_AROUND = [("", ""), ("", ""), ("", ""), ("", ","), ("", "."), ("(", ")"), ("“", "”"),
           ("", ";"), ("", "?"), ("‘", "’")]


def forms(text: str, rng: random.Random) -> str:
    """The print in a form a document may use: mostly as is, else capitalised or in capitals."""
    r = rng.random()
    if r < 0.55:
        return text
    if r < 0.85:
        return text[:1].upper() + text[1:]
    return text.upper()


def context_lines(prints: Sequence[str], lines: Sequence[str], per: int = CONTEXTS,
                  seed: int = 1) -> list[str]:
    """For each print text, ``per`` corpus lines with one word replaced by it."""
    rng = random.Random(seed)
    usable = [line for line in lines if len(_WORD.findall(line)) >= 4 and len(line) < 400]
    out: list[str] = []
    if not usable:
        return out
    for text in prints:
        for _ in range(per):
            line = usable[rng.randrange(len(usable))]
            words = list(_WORD.finditer(line))
            m = words[rng.randrange(len(words))]
            before, after = _AROUND[rng.randrange(len(_AROUND))]
            put = before + forms(text, rng) + after
            out.append(line[:m.start()] + put + line[m.end():])
    return out


def spread_sample(path: Path, chars: int) -> list[str]:
    """About ``chars`` characters of lines taken evenly over the whole file (its sources follow
    one another: its first lines alone would be one source, and a model fine-tuned on them
    forgets the others)."""
    lines = list(read_lines(path))
    total = sum(len(line) + 1 for line in lines)
    if total <= chars:
        return lines
    step = total / chars
    return [lines[int(i * step)] for i in range(int(len(lines) / step))]


def taught_stream(corpus_dir: Path, vocab: Vocab, tables: str, prints: Sequence[str], *,
                  sample_chars: int, per: int = CONTEXTS, workers: int | None = None,
                  progress: Callable[[dict], None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(x, y, starts of corrected words, stats): the sample and the context lines, labelled by
    liblouis with ``tables`` (the corrections table first) in ``vocab``."""
    from ...corrections.matching import Matcher

    sample = spread_sample(Path(corpus_dir) / "train.txt", sample_chars)
    size = sum(len(line) + 1 for line in sample)
    contexts = context_lines(prints, sample, per)
    lines = sample + contexts
    known = frozenset(k for k in vocab.chunk_keys if k >= 0)
    text, all_keys, dropped = label_stream(iter(lines), tables, known, workers, progress,
                                           "label")
    # the stream's separator is a line break, where the matcher's words end as at a line's end
    starts = [a for a, _b, _t in Matcher(prints).spans(text)]
    x = vocab.encode(text).astype(np.int16)
    y = vocab.chunk_ids(all_keys).astype(np.int16)
    stats = {"sample_chars": int(size), "context_lines": len(contexts), "lines_dropped": dropped,
             "corrected_words": len(starts), "corrections": len(prints),
             "chars": int(len(x)),
             "chunk_coverage": float(np.mean(y != 1)) if len(y) else 0.0}
    return x, y, np.asarray(starts, dtype=np.int64), stats
