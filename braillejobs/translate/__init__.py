"""Translation engines behind one interface (``engine``), built by name (``registry``): liblouis
(``louis_engine``) and the neural taggers (``neural``: ``cnn``, ``rnn``, ``auto``), with their
vocabularies, chunks, checkpoints and device decoding. ``training/`` is offline tooling."""

from .engine import ENGINE_NAMES, TABLES, Engine, EngineError, LineTranslation
from .registry import get_engine

__all__ = ["ENGINE_NAMES", "TABLES", "Engine", "EngineError", "LineTranslation", "get_engine"]
