"""The store: SQLAlchemy models (models.py) and engines/sessions (session.py)."""
