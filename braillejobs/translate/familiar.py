"""Words the models have seen: the tokens of the training corpus, as a set of 32-bit hashes.

Of the words the CNN hands over that the BiLSTM does not settle, most the CNN wrote right; on
the calibration's tuning half it had right every one it had met in training (as the same string
of non-spaces) and held at least 0.95 sure, and the wrong ones were tokens it had never seen:
rare names, code, odd punctuation. The ``familiar`` threshold (the CNN's floor on such a word's
least sure character; above 1 the rule is off) lets ``auto`` keep a familiar word instead of
handing it to liblouis. Met once is enough to count, so a typo met once in training counts too:
on unseen text the rule has kept a misspelt *betweeen* that the CNN wrote as the shortform for
*between*. The shipped checkpoint leaves the rule off; an operator turns it on with
``BRAILLEJOBS_AUTO_THRESHOLDS=familiar=0.95``.

The set ships beside the models (``familiar-<table>.npy``, one sorted array of unique hashes:
782,556 tokens of the current corpus in 782,495 hashes, 3.1 MB); a token never seen passes as
seen only if its hash collides with one that was (about 2 in 10,000). ``build`` makes it from a
corpus's ``train.txt``, splitting at spaces as the chain splits words.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from . import checkpoint as ckpt_mod


def token_hash(token: str) -> int:
    """A stable 32-bit hash of a token (the same in every process and on every machine)."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def build(lines: Iterable[str]) -> np.ndarray:
    """The sorted unique hashes of every space-separated token of ``lines``."""
    seen: set[str] = set()
    for line in lines:
        seen.update(line.split(" "))
    seen.discard("")
    return np.unique(np.fromiter((token_hash(t) for t in seen), dtype=np.uint32,
                                 count=len(seen)))


def path_for(table: str, folder: Path | None = None) -> Path:
    return (folder or ckpt_mod.MODEL_DIR) / f"familiar-{table.removesuffix('.ctb')}.npy"


class Familiar:
    """Membership in a set of token hashes."""

    def __init__(self, hashes: np.ndarray):
        self.hashes = np.asarray(hashes, dtype=np.uint32)

    @classmethod
    def load(cls, path: Path) -> "Familiar | None":
        """The set in ``path``, or None where there is none (the rule is then off)."""
        return cls(np.load(path)) if path.exists() else None

    def __len__(self) -> int:
        return len(self.hashes)

    def contains(self, tokens: Sequence[str]) -> np.ndarray:
        """For each token, whether it is in the set."""
        if not tokens or not len(self.hashes):
            return np.zeros(len(tokens), dtype=bool)
        keys = np.array([token_hash(t) for t in tokens], dtype=np.uint32)
        at = np.clip(np.searchsorted(self.hashes, keys), 0, len(self.hashes) - 1)
        return self.hashes[at] == keys
