"""Translation engines behind one interface (see engine.py)."""

from .engine import ENGINE_NAMES, TABLES, Engine, EngineError, LineTranslation, get_engine

__all__ = ["ENGINE_NAMES", "TABLES", "Engine", "EngineError", "LineTranslation", "get_engine"]
