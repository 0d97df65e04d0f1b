"""The engines of this process: built on first use by name and table, and kept, so a worker
loads its models once."""

from __future__ import annotations

import threading

from .engine import ENGINE_NAMES, Engine, EngineError, check_table


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
