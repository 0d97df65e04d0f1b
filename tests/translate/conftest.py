"""Fixtures of the neural translator tests: the shipped models and a tiny corpus made on the spot."""

from __future__ import annotations

from pathlib import Path

import pytest

from braillejobs.translate.training import corpus
from braillejobs.translate.training.evaluate import RULEBOOK  # noqa: F401

REPO = Path(__file__).resolve().parents[2]

# A fixed sample of ordinary English, written for these tests (not from any training source).
SAMPLE = [
    "The quick brown fox jumps over the lazy dog.",
    "Braille readers deserve books that arrive on time and without errors.",
    "She said that the meeting would start at 9:30 a.m. on Tuesday, 4 March 2025.",
    "Our library lent 12,450 books last year, up 7.5% from the year before.",
    "\u201cWhere are you going?\u201d asked the child, looking out of the window.",
    "The committee's report, which ran to 240 pages, was published in June.",
    "Please send your questions to the help desk before Friday afternoon.",
    "Although it was raining, they walked through the park and into the town.",
    "Chapter 3 explains how the machine reads the document and writes the result.",
    "He bought two loaves of bread, a pound of cheese and some apples for $8.95.",
    "Everyone knows that the children will enjoy the summer holidays.",
    "The train from London arrives at platform 6 every hour.",
    "It is important to check the spelling of every word in the title.",
    "Many people think that knowledge is the best thing a school can give.",
    "The river flows quietly past the old mill and under the stone bridge.",
    "They could not believe how quickly the work had been finished.",
    "Would you like another cup of tea, or should we go home now?",
    "The world is full of wonderful things, if only we take the time to look.",
    "After the storm, the neighbours helped one another clear the roads.",
    "Great minds discuss ideas; average minds discuss events.",
]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """About 60,000 characters: the sample lines and the seeded generators, no installed sources."""
    root = tmp_path_factory.mktemp("corpus")
    docs = root / "docs"
    docs.mkdir()
    (docs / "sample.txt").write_text("\n\n".join(SAMPLE * 3) + "\n", encoding="utf-8")
    out = root / "corpus"
    corpus.build(out, seed=3, synthetic_share=0.9, sources=(), user_dir=docs, max_chars=60_000)
    return out
