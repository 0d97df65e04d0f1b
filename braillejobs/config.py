"""Settings as data.

Every setting is declared once below with its name, type, default and help text. The effective
value of ``name`` comes from the environment variable ``BRAILLEJOBS_<NAME>`` when it is set, or
from the file that ``BRAILLEJOBS_<NAME>_FILE`` names (a Docker or Kubernetes secret), and from
the default otherwise. A secret that still holds the placeholder password of the shipped
examples is refused. ``braillejobs config`` prints them all with secrets masked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ENV_PREFIX = "BRAILLEJOBS_"


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable and the fix."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    secret: bool = False

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _thresholds(text: str) -> dict[str, float]:
    from .translate.thresholds import parse_thresholds
    return parse_thresholds(text)


def _one_of(text: str, names: tuple[str, ...]) -> str:
    value = text.strip().lower()
    if value not in names:
        raise ValueError(f"expected one of {', '.join(names)}")
    return value


def _engine(text: str) -> str:
    from .translate.engine import ENGINE_NAMES
    return _one_of(text, ENGINE_NAMES)


def _table(text: str) -> str:
    from .translate.engine import TABLES
    return _one_of(text, TABLES)


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "braillejobs")


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", None, "Directory for the embedded SQLite database and stored results "
            "(default: $XDG_DATA_HOME/braillejobs)."),
    Setting("database_url", None, "SQLAlchemy database URL. Default: a SQLite file in data_dir. "
            "Production: postgresql+psycopg2://user:password@host/db.", secret=True),
    Setting("broker_url", "redis://127.0.0.1:6379/0", "Celery broker URL (redis:// or rediss:// "
            "for TLS; put the password in the URL: redis://:PASSWORD@host:6379/0).", secret=True),
    Setting("table", "en-ueb-g2.ctb", "Default liblouis table: en-ueb-g2.ctb (contracted) or "
            "en-ueb-g1.ctb (uncontracted).", _table),
    Setting("engine", "best", "Default translation engine: best (the fastest engine that "
            "writes the same braille where the document is translated: auto on a host with a "
            "CUDA device, louis on a CPU-only host), auto (the CNN, its unsure words to the "
            "BiLSTM, then liblouis), cnn, rnn or louis.", _engine),
    Setting("format", "brf", "Default output format (one of the formats the formats module "
            "offers: unicode, brf, ...)."),
    Setting("cells_per_line", 40, "Default braille cells per line for page layouts (BRF, PEF).",
            int),
    Setting("lines_per_page", 25, "Default braille lines per page for page layouts.", int),
    Setting("volume_sheets", 50, "Default most sheets per volume for volume layouts (PEF).", int),
    Setting("priority", "normal", "Default job priority: low, normal or high."),
    Setting("dedup", True, "Reuse the stored result of an earlier document with the same "
            "sha256 and options instead of translating it again.", _bool),
    Setting("max_document_bytes", 50 * 1024 * 1024, "Largest document accepted, in bytes.", int),
    Setting("max_documents_per_job", 100_000, "Most documents one job may hold.", int),
    Setting("max_pages", 10_000, "Most braille pages one document may lay out to (BRF and PEF "
            "pages; unicode: lines / lines_per_page); a longer document is failed with a "
            "message.", int),
    Setting("documents_per_task", 25, "Documents carried by one Celery task message.", int),
    Setting("solo_document_bytes", 1024 * 1024, "Most source bytes one task message carries: "
            "a document at least this large goes in a task of its own, so that its long run "
            "(or its time-out) never holds small documents back.", int),
    Setting("task_time_limit", 600, "Hard time limit of one task, in seconds.", int),
    Setting("visibility_timeout", 3600, "Seconds before Redis redelivers an unacknowledged task; "
            "must be longer than task_time_limit.", int),
    Setting("lost_message_seconds", 120.0, "A worker checks this often (one worker of the "
            "fleet at a time) for documents still queued in a job that has not changed for as "
            "long, that no task message in Redis carries: their message was lost (a broker "
            "restart or failover), and they are sent again. 0 turns the check off.", float),
    Setting("max_attempts", 3, "Attempts before a document is marked failed.", int),
    Setting("db_retry_attempts", 8, "Tries of one database step while the database cannot be "
            "reached (waits grow from 0.5 s to 10 s between them) before the task gives up and "
            "its message goes back to the queue.", int),
    Setting("queue", "translate", "Name of the Celery queue of the CPU workers: liblouis jobs, "
            "and default-engine jobs while no GPU worker consumes the GPU queue."),
    Setting("gpu_queue", "translate-gpu", "Name of the Celery queue of the GPU workers: jobs "
            "for the neural engines (cnn, rnn, auto), and default-engine jobs while a GPU "
            "worker consumes it."),
    Setting("dead_letter_list", "braillejobs.dead-letters", "Redis list where workers move "
            "every queued message that is not a well-formed translation task (with the reason "
            "and the time) instead of running it; see `braillejobs dead-letters`."),
    Setting("dead_letter_max", 1000, "Most dead letters kept; the oldest go first.", int),
    Setting("max_message_bytes", 1024 * 1024, "Largest task message a worker accepts, in "
            "bytes; a larger one is a dead letter (a translation task carrying "
            "documents_per_task ids needs a few hundred bytes).", int),
    Setting("worker_concurrency", 1, "Tasks one worker process runs at once, in its threads "
            "pool (never a forking pool).", int),
    Setting("worker_events", True, "Workers send Celery's task events and heartbeats and take "
            "part in mingle (never gossip), so that Flower, `celery events` and celery-exporter "
            "see the fleet (off: less broker traffic, nothing for those tools).", _bool),
    Setting("wait_poll_seconds", 0.5, "How often `submit --wait` and the benchmark poll the "
            "database for progress, in seconds.", float),
    Setting("retention_days", 0.0, "Days after which `braillejobs purge` deletes a finished "
            "job with its sources and braille when no --older-than is given (0: keep them for "
            "ever).", float),
    Setting("batch_chars", 200_000, "Characters translated in one engine batch.", int),
    Setting("model_dir", None, "Folder of cnn-<table>.pt and rnn-<table>.pt checkpoints to use "
            "instead of the models shipped in the package."),
    Setting("auto_thresholds", None, "The auto chain's routing, NAME=VALUE,... over the "
            "thresholds calibrated into the CNN checkpoint: cnn (the CNN keeps a word at least "
            "this sure), rnn (the BiLSTM settles a handed word at least this sure), agree (... or "
            "one it writes as the CNN did, at least this sure), agree_cnn (the CNN's floor on "
            "those), familiar (the CNN keeps a word neither settles that it wrote as liblouis wrote "
            "the same token in training, at least this sure); above 1 turns a rule off, e.g. "
            "rnn=1.01,agree=1.01 sends every word the CNN is unsure of to liblouis.",
            _thresholds),
    Setting("device", "auto", "Torch device for the neural engines: auto, cpu, cuda or cuda:N."),
    Setting("metrics_port", 0, "Port where a worker serves Prometheus /metrics and its "
            "liveness probe /healthz (0: off).", int),
    Setting("liveness_seconds", 60.0, "A worker's /healthz fails (503) once its consumer loop "
            "has not run for this many seconds: hung, to be restarted.", float),
    Setting("log_level", "INFO", "Logging level: DEBUG, INFO, WARNING or ERROR."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    return _BY_NAME[name]


PLACEHOLDER = "change-me"    # what .env.example and the Kubernetes Secret ship as passwords


def _raw(item: Setting) -> str | None:
    """The variable's text: ``BRAILLEJOBS_<NAME>``, or the first line of the file that
    ``BRAILLEJOBS_<NAME>_FILE`` names (Docker and Kubernetes secret files)."""
    raw = os.environ.get(item.env_var)
    file_var = item.env_var + "_FILE"
    path = os.environ.get(file_var)
    if path:
        if raw:
            raise ConfigError(f"both {item.env_var} and {file_var} are set; keep one")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{file_var}={path!r}: cannot read it ({exc.strerror}); mount "
                              "the secret there or unset the variable") from None
        lines = text.splitlines()
        raw = lines[0].strip() if lines else ""
        if not raw:
            raise ConfigError(f"{file_var}={path!r}: the file is empty")
    if raw and item.secret and PLACEHOLDER in raw:
        raise ConfigError(f"{item.env_var} still holds the placeholder password "
                          f"({PLACEHOLDER!r}) of .env.example or the Kubernetes Secret; set the "
                          "real one")
    return raw


def get(name: str) -> Any:
    """The effective value of one setting, parsed to its type."""
    item = _BY_NAME[name]
    raw = _raw(item)
    if raw is None or raw == "":
        if name == "data_dir":
            return _default_data_dir()
        if name == "database_url":
            return "sqlite:///" + str(Path(get("data_dir")) / "braillejobs.db")
        return item.default
    try:
        return item.type(raw)
    except ValueError as exc:
        raise ConfigError(f"{item.env_var}={raw!r} is not valid: {exc}. {item.help}") from None


def effective() -> dict[str, Any]:
    return {s.name: get(s.name) for s in SETTINGS}


# The user name ends at the first ':'; the password runs to the last '@' of the URL (which ends
# at white space, unless the password holds some): people write passwords with an unencoded '/',
# '@' or '?' and the URL still works, so the mask errs towards hiding more (an '@' in a query).
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/?#]*):",
                           re.IGNORECASE)


_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|pwd|sslpassword)=)[^&#]*",
                             re.IGNORECASE)


def mask_url(url: str) -> str:
    """Hide the password of a URL: ``redis://:secret@h/0`` -> ``redis://:***@h/0``, and a
    ``password=`` query parameter (``postgresql://h/db?password=secret``)."""
    out, pos = [], 0
    for m in _URL_USERINFO.finditer(url):
        if m.start() < pos:
            continue
        rest = url[m.end():]
        token = re.split(r"\s", rest, maxsplit=1)[0]  # this URL ends at white space...
        if "@" not in token:
            token = rest  # ...unless the password itself holds some
        at = token.rfind("@")
        if at < 0:
            continue
        out.append(url[pos:m.end()] + "***")
        pos = m.end() + at
    url = "".join(out) + url[pos:]
    return _QUERY_PASSWORD.sub(lambda m: f"{m['key']}***", url)


def masked() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in SETTINGS:
        value = get(s.name)
        out[s.name] = mask_url(value) if s.secret and isinstance(value, str) else value
    return out
