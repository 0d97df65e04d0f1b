"""A labelled stream taught by the transcribers' corrections: for ``train --corrections``.

The teacher is liblouis with the corrections table listed before its own
(:mod:`braillejobs.corrections.table`), so a corrected word is labelled as the correction
writes it, with the indicators and punctuation liblouis puts around it, and every other word as
before. The stream is the corpus (or a sample of ``sample_chars`` characters of lines taken
evenly over it) and, for each correction, lines of the corpus with one of their words replaced by the
corrected print in varied forms (lower case, capitalised, all capitals; after opening and
before closing punctuation), so the model sees each correction in many contexts, not only where
the corpus happens to use it. The start of every corrected word in the stream is returned, for the
trainer to centre a share of its windows on.

Corrections alone teach the model patterns it then applies too widely: fine-tuned on the UEB
rulebook's cases that liblouis gets wrong, it got others wrong that liblouis writes right
(``cofounder``, ``deactivate``, ``stateroom``). So the stream also holds negative examples:
for each corrected word, the corpus words most like it (the most letter sequences in common)
that no correction names and that do not start with a corrected word (those are built on
it), put in as many contexts, labelled by liblouis as usual, and centred on as often as the
corrected words, so that the model learns where a correction stops.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..vocab import Vocab
from .corpus import read_lines
from .labels import label_stream

CONTEXTS = 48                 # lines made for each correction
NEIGHBOURS = 6                # negative examples for each corrected word
_GRAM = 4                     # letters in the sequences that make two words alike
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


def _grams(word: str) -> set[str]:
    return {word[i:i + _GRAM] for i in range(len(word) - _GRAM + 1)}


def neighbours(prints: Sequence[str], lines: Sequence[str], per: int = NEIGHBOURS
               ) -> list[str]:
    """Negative examples: for each word of the print texts, the ``per`` words of ``lines`` with
    the most four-letter sequences in common with it (then the closest in length, then the most
    frequent), leaving out every word of a print text and every word that starts with one
    (``deactivated`` is built on ``deactivate``: where the correction should carry, not where
    it stops). In order, without repeats."""
    taken = {w for p in prints for w in p.lower().split()}
    counts = Counter(w.lower() for line in lines for w in _WORD.findall(line))
    index: dict[str, list[str]] = defaultdict(list)
    for word in counts:
        if word not in taken:
            for gram in _grams(word):
                index[gram].append(word)
    out: dict[str, None] = {}
    for target in sorted({w for w in taken if len(w) >= _GRAM}):
        shared: Counter[str] = Counter()
        for gram in _grams(target):
            shared.update(index.get(gram, ()))
        ranked = sorted((w for w in shared if not w.startswith(target)),
                        key=lambda w: (-shared[w], abs(len(w) - len(target)), -counts[w], w))
        out.update(dict.fromkeys(ranked[:per]))
    return list(out)


def spread_sample(path: Path, chars: int | None) -> list[str]:
    """About ``chars`` characters of lines taken evenly over the whole file (its sources follow
    one another: its first lines alone would be one source, and a model fine-tuned on them
    forgets the others); every line when ``chars`` is None or more than the file holds."""
    lines = list(read_lines(path))
    total = sum(len(line) + 1 for line in lines)
    if chars is None or total <= chars:
        return lines
    step = total / chars
    return [lines[int(i * step)] for i in range(int(len(lines) / step))]


def taught_stream(corpus_dir: Path, vocab: Vocab, tables: str, prints: Sequence[str], *,
                  sample_chars: int | None, per: int = CONTEXTS, negatives: int = NEIGHBOURS,
                  workers: int | None = None, seed: int = 1,
                  progress: Callable[[dict], None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(x, y, starts of the words to centre on, stats): the sample and the context lines,
    labelled by liblouis with ``tables`` (the corrections table first) in ``vocab``. The starts
    are those of the corrected words and, with ``negatives`` (neighbours of each corrected
    word; 0 for none), as many starts of their neighbours."""
    from ...corrections.matching import Matcher

    sample = spread_sample(Path(corpus_dir) / "train.txt", sample_chars)
    size = sum(len(line) + 1 for line in sample)
    contexts = context_lines(prints, sample, per, seed)
    near = neighbours(prints, sample, negatives) if negatives > 0 else []
    if near:        # as many context lines as the corrections have, shared among neighbours
        contexts += context_lines(near, sample, max(1, per * len(prints) // len(near)),
                                  seed + 1)
    lines = sample + contexts
    known = frozenset(k for k in vocab.chunk_keys if k >= 0)
    text, all_keys, dropped = label_stream(iter(lines), tables, known, workers, progress,
                                           "label")
    # the stream's separator is a line break, where the matcher's words end as at a line's end
    starts = [a for a, _b, _t in Matcher(prints).spans(text)]
    near_starts = [a for a, _b, _t in Matcher(near).spans(text)]
    if len(near_starts) > len(starts):
        near_starts = random.Random(seed).sample(near_starts, len(starts))
    x = vocab.encode(text).astype(np.int16)
    y = vocab.chunk_ids(all_keys).astype(np.int16)
    stats = {"sample_chars": int(size), "context_lines": len(contexts), "lines_dropped": dropped,
             "corrected_words": len(starts), "corrections": len(prints),
             "negative_words": len(near), "negative_starts": len(near_starts),
             "chars": int(len(x)),
             "chunk_coverage": float(np.mean(y != 1)) if len(y) else 0.0}
    return x, y, np.asarray(sorted(starts + near_starts), dtype=np.int64), stats
