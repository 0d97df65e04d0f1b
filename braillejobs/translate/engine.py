"""The engine interface: lines of print in, lines of Unicode braille out.

Every engine (liblouis, the convolutional tagger, the BiLSTM tagger and the ``auto`` chain) takes a
batch of lines and returns one :class:`LineTranslation` per line, carrying the braille and how many
input characters each engine produced. Engines are built once per process by :func:`get_engine`
and cached, so a worker loads its models once.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

ENGINE_NAMES = ("louis", "cnn", "rnn", "auto")
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


_cache: dict[tuple[str, str], Engine] = {}
_lock = threading.Lock()


def get_engine(name: str, table: str) -> Engine:
    """The engine ``name`` for ``table``, built on first use and kept for the process."""
    check_table(table)
    key = (name, table)
    with _lock:
        engine = _cache.get(key)
        if engine is None:
            engine = _build(name, table)
            _cache[key] = engine
        return engine


def loaded_engines() -> list[Engine]:
    """The engines this process has built so far (a worker reports their models)."""
    with _lock:
        return list(_cache.values())


def _build(name: str, table: str) -> Engine:
    if name == "louis":
        from .louis_engine import LouisEngine
        return LouisEngine(table)
    if name in ("cnn", "rnn", "auto"):
        try:
            from . import neural
        except ImportError as exc:  # the neural translator is an optional part of the package
            raise EngineError(
                f"engine {name!r} is not available in this installation ({exc}); "
                "use --engine louis") from None
        return neural.build_engine(name, table)
    raise EngineError(f"unknown engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}")
