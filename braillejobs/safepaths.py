"""Paths from untrusted sources (submitted names, names inside archives) made safe to use.

* :func:`clean_part` turns one path component into a file name that is harmless on every
  platform: no control, format or line-separator characters (newlines, bidi overrides), none of
  ``\\ : * ? " < > |``, no leading dots, no empty or ``..`` part, at most 200 bytes of UTF-8.
* :func:`escapes` says whether a path found under a root leads outside it (a symbolic link).
* :func:`write_inside` writes a file under a root without following a link planted there: the
  resolved parent must be inside the root, and the bytes go to a new temporary file opened with
  ``O_EXCL | O_NOFOLLOW`` that is then renamed over the target.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from pathlib import Path

MAX_NAME_BYTES = 200  # leaves room for an extension, a "-N" suffix and ".part" under 255
_RESERVED = re.compile(r"[\\:*?\"<>|/]")


class UnsafePath(ValueError):
    """A path that would lead outside the folder it must stay in."""


def _safe_char(ch: str) -> str:
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return "_"
    return ch


def truncate_utf8(text: str, limit: int = MAX_NAME_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def clean_part(part: str) -> str:
    """One safe, non-empty file-name component from any string."""
    part = unicodedata.normalize("NFC", part)
    part = "".join(_safe_char(ch) for ch in part)
    part = _RESERVED.sub("_", part).strip(" ")
    part = part.lstrip(".") or "_"
    return truncate_utf8(part).rstrip(" ") or "_"


def escapes(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when ``path`` (found under ``root``) resolves to somewhere outside ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return not (real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep))


def inside(root: Path, target: Path) -> bool:
    root = root.resolve()
    target = target.resolve()
    return target == root or root in target.parents


def write_inside(root: Path, target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` (a path under ``root``) without ever leaving ``root``."""
    given_root = Path(root)
    root = given_root.resolve()
    target = Path(target)
    try:
        rel = target.relative_to(given_root)
    except ValueError:
        rel = target.resolve().relative_to(root) if inside(root, target) else None
    if rel is None or not rel.parts or ".." in rel.parts:
        raise UnsafePath(f"{target}: not a path inside {given_root}")
    folder = root
    for part in rel.parts[:-1]:  # make each folder, never through a link
        folder = folder / part
        if folder.is_symlink():
            raise UnsafePath(f"{folder}: a symbolic link in the output folder; remove it")
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise UnsafePath(f"{folder}: exists and is not a folder") from None
    final = folder / rel.parts[-1]
    real_parent = final.parent.resolve()
    if real_parent != root and root not in real_parent.parents:
        raise UnsafePath(f"{target}: its folder leads outside {root}")
    tmp = real_parent / f".{uuid.uuid4().hex}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    if final.is_dir() and not final.is_symlink():
        raise UnsafePath(f"{final}: a folder is in the way")
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, final)  # rename replaces a link planted at the target, never follows it
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return final
