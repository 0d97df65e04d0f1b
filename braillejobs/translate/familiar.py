"""Words as the teacher wrote them: every token of the training corpus, in its capitals role,
with the braille liblouis wrote for it there, as a set of 32-bit hashes of the three.

Of the words the CNN hands over that the BiLSTM does not settle, most the CNN wrote right. When
the CNN writes such a word exactly as liblouis wrote the same token (the same string of
non-spaces) in the same capitals role somewhere in the training corpus, it is repeating an
answer it was taught, and the ``familiar`` rule lets ``auto`` keep it (with the CNN's least sure
character at least ``familiar`` sure; above 1 the rule is off) instead of handing it to
liblouis. A word the CNN writes otherwise than it was taught, or never met, still goes to
liblouis: a typo met once in training (*betweeen*) but written as the shortform for *between*
is not kept.

The capitals role (``capitals.text_roles``: a capitalised word on its own, one of two, or the
first, a middle or the last word of a capitals passage) is part of the key because liblouis
writes a capitalised word's indicators by its neighbours: ``HELLO`` is ⠠⠠⠓⠑⠇⠇⠕ on its own and
⠓⠑⠇⠇⠕ inside a passage, and a set of bare pairs would vouch for either form anywhere. The other
indicators that depend on context, ⠼ and ⠰, the indicator check guards after this rule
(``indicators.py``). The role is computed from the text, the same way when the set is built and
when it is asked.

The set ships beside the models (``familiar-pairs-<table>.npy``, one sorted array of unique
hashes: the current corpus's 782,556 tokens make 809,148 distinct hashes, 3.2 MB); a key never
seen passes as seen only if its hash collides with one that was (about 2 in 10,000).
``training/familiar_set.build`` makes it from a corpus's ``train.txt``, splitting at spaces as
the chain splits words and cutting liblouis's braille for each line at its characters
(``line_pairs``, with ``louis_engine.align``); a token liblouis writes no cell for (one it wrote
together with the word before) is left out.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from . import checkpoint as ckpt_mod
from .capitals import text_roles
from .louis_engine import align

log = logging.getLogger("braillejobs.familiar")


def pair_hash(token: str, role: int, braille: str) -> int:
    """A stable 32-bit hash of a token, its capitals role and its braille (the same in every
    process and on every machine)."""
    return int.from_bytes(_digest(token, role, braille), "little")


def pair_hashes(tokens: Sequence[str], roles: Sequence[int], brailles: Sequence[str]
                ) -> np.ndarray:
    """``pair_hash`` of each (token, role, braille), as one array."""
    joined = b"".join(_digest(t, int(r), b) for t, r, b in zip(tokens, roles, brailles,
                                                               strict=True))
    return np.frombuffer(joined, dtype="<u4").astype(np.uint32)


def _digest(token: str, role: int, braille: str) -> bytes:
    key = f"{token}\x00{role}\x00{braille}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=4).digest()


def line_pairs(line: str, table: str, roles: np.ndarray | None = None
               ) -> list[tuple[str, int, str]]:
    """Every space-separated token of ``line`` with its capitals role (``capitals.text_roles``;
    given, or computed) and the braille liblouis writes for it in the line; a token liblouis
    writes no cell for (one it wrote together with the word before) is left out. Raises
    AlignmentError (or liblouis's RuntimeError) where the line cannot be cut."""
    _braille, chunks = align(line, table)
    if roles is None:
        roles = text_roles([line])[0]
    pairs, at = [], 0
    for token in line.split(" "):
        braille = "".join(chunks[at:at + len(token)])
        if token and braille:
            pairs.append((token, int(roles[at]), braille))
        at += len(token) + 1
    return pairs


def path_for(table: str, folder: Path | None = None) -> Path:
    return (folder or ckpt_mod.MODEL_DIR) / f"familiar-pairs-{table.removesuffix('.ctb')}.npy"


class Familiar:
    """Membership in a set of (token, capitals role, braille) hashes."""

    def __init__(self, hashes: np.ndarray):
        self.hashes = np.asarray(hashes, dtype=np.uint32)

    @classmethod
    def load(cls, path: Path) -> "Familiar | None":
        """The set in ``path``, or None where there is none or it cannot be read as one (the
        rule is then off; an unreadable file is logged, naming it and the fix)."""
        if not path.exists():
            return None
        try:
            hashes = np.load(path, allow_pickle=False)
            if isinstance(hashes, np.ndarray) and hashes.ndim == 1 and hashes.dtype == np.uint32:
                return cls(hashes)
            problem = "not one list of 32-bit hashes"
        except (OSError, ValueError, EOFError) as exc:
            problem = str(exc)
        log.warning("%s is not a familiar-words set (%s): the familiar rule is off; rebuild it "
                    "with scripts/train_models.py --finish, or remove it", path, problem)
        return None

    def __len__(self) -> int:
        return len(self.hashes)

    def contains(self, tokens: Sequence[str], roles: Sequence[int], brailles: Sequence[str]
                 ) -> np.ndarray:
        """For each token, whether the set holds it in that capitals role with that braille."""
        if not tokens or not len(self.hashes):
            return np.zeros(len(tokens), dtype=bool)
        keys = pair_hashes(tokens, roles, brailles)
        at = np.clip(np.searchsorted(self.hashes, keys), 0, len(self.hashes) - 1)
        return self.hashes[at] == keys
