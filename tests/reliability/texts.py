"""Deterministic English prose of any size, for jobs whose documents take measurable time."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("the of and to in that it with as for was on be by this which from at or had have "
         "not but they his were are one all their there been has when who will more no if out "
         "so said what up its about into than them can only other new some could time these "
         "two may then do first any my now such like our over man me even most made after also "
         "did many before must through back years where much your way well down should because "
         "each just those people how too little state good very make world still own see men "
         "work long get here between both life being under never day same another know while "
         "last might us great old year off come since against go came right used take three "
         "library braille reader volume chapter knowledge question children garden lighthouse "
         "harbour weather morning evening teacher student catalogue embosser paragraph").split()


def prose(size: int, seed: int) -> str:
    """About ``size`` characters of sentences in paragraphs, the same for the same seed."""
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        sentences = []
        for _ in range(rng.randint(3, 7)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
            if rng.random() < 0.15:
                words.insert(rng.randint(0, len(words)), str(rng.randint(2, 2026)))
            sentence = " ".join(words)
            sentences.append(sentence[0].upper() + sentence[1:] + rng.choice(".!?.."))
        paragraph = " ".join(sentences)
        out.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(out) + "\n"


def write_corpus(folder: Path, count: int, size: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"doc-{i:04d}.txt"
        path.write_text(prose(size, seed * 100_000 + i), encoding="utf-8")
        paths.append(path)
    return paths
