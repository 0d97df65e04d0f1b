"""SQLAlchemy 2.0 typed models: jobs, their documents, and the stored braille results.

A :class:`Job` holds the options every document of it is converted with. A :class:`Document`
carries its source bytes (so that workers on other hosts need no shared disk), its status and what
happened to it. A :class:`Result` holds the braille bytes of a document that is done; there is at
most one per document, which is what makes storing a result idempotent (an upsert on
``document_id``). A :class:`Correction` is a transcriber's ruling on how a word or phrase must be
written in braille. The models work on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Document statuses. A document goes queued -> running -> done | failed; cancel moves queued
# documents to cancelled; retry moves failed (and cancelled) documents back to queued.
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
DOCUMENT_STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
# Job states: queued (nothing started), running, done (all documents done), failed (finished
# with at least one failed document), cancelled.
JOB_STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
PRIORITIES = ("low", "normal", "high")
MODES = ("embedded", "queued")
# Where a correction came from: typed at the command line, imported from a file, or learned
# from a transcriber's edited braille file.
CORRECTION_ORIGINS = ("typed", "imported", "learned")
GLOBAL_CORRECTIONS = "global"   # the set every job uses, besides the one it names


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime) -> datetime:
    """``dt`` with its zone: SQLite gives times back without one (they are stored in UTC)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(8))
    options: Mapped[dict[str, Any]]
    options_key: Mapped[str] = mapped_column(String(64))
    documents_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    documents: Mapped[list["Document"]] = relationship(back_populates="job",
                                                       cascade="all, delete-orphan",
                                                       passive_deletes=True)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_job_status", "job_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # Path relative to the input root (what the user sees), where it was read from, and where
    # fetch writes the braille (relative to the output directory, made safe at submit time).
    path: Mapped[str] = mapped_column(String(1024))
    source_path: Mapped[str] = mapped_column(String(4096))
    output_path: Mapped[str | None] = mapped_column(String(1100))
    status: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    engine: Mapped[str | None] = mapped_column(String(16))
    chars: Mapped[int | None] = mapped_column(Integer)
    cells: Mapped[int | None] = mapped_column(Integer)
    chars_by_engine: Mapped[dict[str, Any] | None]
    # The transcribers' corrections its braille applied: print text -> times used.
    corrections_used: Mapped[dict[str, Any] | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    deduplicated: Mapped[bool] = mapped_column(Boolean, default=False)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(back_populates="documents")


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (Index("ix_results_dedup", "source_sha256", "options_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             unique=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    options_key: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    extension: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16))
    chars: Mapped[int] = mapped_column(Integer)
    cells: Mapped[int] = mapped_column(Integer)
    chars_by_engine: Mapped[dict[str, Any]]
    corrections_used: Mapped[dict[str, Any] | None]
    duration_s: Mapped[float] = mapped_column(Float)
    # Set when this result is a copy of an earlier one with the same source and options.
    reused_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("results.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Correction(Base):
    """Print text (a word or a phrase) that must become this braille with this table, in one
    named set of corrections (``global``, or one per collection or customer)."""

    __tablename__ = "corrections"
    __table_args__ = (UniqueConstraint("set_name", "table", "print_text",
                                       name="uq_corrections_set_table_print"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    set_name: Mapped[str] = mapped_column(String(100))
    table: Mapped[str] = mapped_column(String(64))
    print_text: Mapped[str] = mapped_column(String(200))
    braille: Mapped[str] = mapped_column(String(400))    # Unicode braille, U+2800 for a space
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
