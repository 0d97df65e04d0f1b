"""The engines of this process: built on first use by name and table, and kept, so a worker
loads its models once; and what the default engine, ``best``, means on this hardware.

``best`` is the fastest engine that writes the same braille: the ``auto`` chain (CNN, BiLSTM,
liblouis) where a CUDA device is present, liblouis on a CPU-only host, where it is about a hundred
times faster than the CNN. It is decided once per process, on the process that translates (a
worker, or ``convert`` in embedded mode; never the host that submits), logged in one line, and
the engine that ran is what each document records.
"""

from __future__ import annotations

import logging
import threading

from .engine import BEST, ENGINE_NAMES, Engine, EngineError, check_table

log = logging.getLogger("braillejobs.engine")

_cache: dict[tuple[str, str, str | None], Engine] = {}
MAX_CORRECTED_ENGINES = 16   # engines for distinct corrections kept at once (oldest dropped)
_lock = threading.Lock()
_best: list[tuple[str, str]] = []   # the resolution of ``best`` in this process and why


def resolve(name: str) -> str:
    """The engine that runs for ``name``: ``best`` resolved for this process, others as given."""
    if name != BEST:
        return name
    with _lock:
        if not _best:
            choice, why = _choose_best()
            log.info("engine best is %s in this process: %s", choice, why)
            _best.append((choice, why))
        return _best[0][0]


def best_choice() -> tuple[str, str] | None:
    """The engine ``best`` resolved to in this process and why, once it has been."""
    with _lock:
        return _best[0] if _best else None


def _choose_best() -> tuple[str, str]:
    from .. import config
    requested = str(config.get("device"))
    if requested == "cpu":
        return "louis", "the device setting is cpu, where liblouis is the fastest engine"
    try:
        from .device import cuda_present
    except ImportError:
        return "louis", "the neural engines are not installed (no torch)"
    if not cuda_present():
        return "louis", "no CUDA device; on a CPU liblouis is the fastest engine"
    return "auto", f"a CUDA device is present (device setting {requested})"


def forget() -> None:
    """Drop the built engines and the resolution of ``best`` (tests; a changed setting)."""
    with _lock:
        _cache.clear()
        _best.clear()


def get_engine(name: str, table: str, corrections=None) -> Engine:
    """The engine ``name`` for ``table`` (``best`` resolved), built on first use and kept for
    the process; with ``corrections`` (:class:`braillejobs.corrections.active.ActiveCorrections`)
    one that honours them, kept by their digest (the models are shared)."""
    check_table(table)
    name = resolve(name)
    key = (name, table, corrections.digest if corrections is not None else None)
    with _lock:
        engine = _cache.get(key)
        if engine is None:
            engine = _build(name, table, corrections)
            if corrections is not None:   # keep a bounded number of corrected variants
                variants = [k for k in _cache if k[2] is not None]
                for old in variants[:max(0, len(variants) - MAX_CORRECTED_ENGINES + 1)]:
                    del _cache[old]
            _cache[key] = engine
        return engine


def loaded_engines() -> list[Engine]:
    """The engines this process has built so far (a worker reports their models)."""
    with _lock:
        return list(_cache.values())


def _build(name: str, table: str, corrections=None) -> Engine:
    if name == "louis":
        from .louis_engine import LouisEngine
        return LouisEngine(table, corrections)
    if name in ("cnn", "rnn", "auto"):
        try:
            from . import neural
        except ImportError as exc:  # the neural translator is an optional part of the package
            raise EngineError(
                f"engine {name!r} is not available in this installation ({exc}); "
                "use --engine louis") from None
        return neural.build_engine(name, table, corrections)
    raise EngineError(f"unknown engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}")
