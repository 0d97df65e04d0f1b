"""The engine interface: lines of print in, lines of Unicode braille out.

Every engine (liblouis, the convolutional tagger, the BiLSTM tagger and the ``auto`` chain) takes a
batch of lines and returns one :class:`LineTranslation` per line, carrying the braille and how many
input characters each engine produced. Engines are built once per process by :func:`get_engine`
and cached, so a worker loads its models once (``registry``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

# ``best``: the fastest engine that writes the same braille on the hardware that runs it (the
# ``auto`` chain where a CUDA device is present, liblouis on a CPU), resolved by ``registry``.
BEST = "best"
ENGINE_NAMES = (BEST, "louis", "cnn", "rnn", "auto")
TABLES = ("en-ueb-g2.ctb", "en-ueb-g1.ctb")


class EngineError(RuntimeError):
    """An engine cannot be used (missing library, missing model); the message says what to do."""


@dataclass
class LineTranslation:
    braille: str
    chars_by_engine: dict[str, int] = field(default_factory=dict)


class Engine(Protocol):
    name: str
    table: str

    def translate_lines(self, lines: Sequence[str],
                        typeforms: Sequence[Sequence[int] | None] | None = None
                        ) -> list[LineTranslation]:
        """Translate each line (no newlines inside) to Unicode braille."""
        ...


def count_engines(results: Sequence[LineTranslation]) -> Counter:
    total: Counter = Counter()
    for r in results:
        total.update(r.chars_by_engine)
    return total


def check_table(table: str) -> str:
    if table not in TABLES:
        raise EngineError(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")
    return table
