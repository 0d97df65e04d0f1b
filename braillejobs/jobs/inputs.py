"""Turning the PATH arguments of ``convert`` and ``submit`` into a list of input files.

A PATH may be a file, a directory (searched recursively for documents), a glob pattern
(``'books/**/*.md'``) or ``@manifest.txt`` (one path a line; blank lines and lines starting with
``#`` are skipped; relative paths are taken from the manifest's folder). Each input file carries
its path relative to the root it was found under: that is where ``fetch`` puts its braille.

A PATH that yields nothing is not fatal: it becomes an :class:`InputFile` with an ``error`` (a one
line message naming the path and what to do), which the job records as a failed document while
the rest of the job goes on.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

from ..safepaths import MAX_NAME_BYTES, clean_part, escapes, truncate_utf8

# Files a directory or glob search picks up. A file named explicitly is always taken.
DOCUMENT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".docx",
                     ".epub")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class InputFile:
    source: str            # the path to read (as found)
    rel: str               # POSIX path relative to the input root, for display and output
    error: str | None = None


def is_document(path: Path) -> bool:
    return path.suffix.lower() in DOCUMENT_SUFFIXES


def _suffix_list() -> str:
    return ", ".join(DOCUMENT_SUFFIXES)


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                path = Path(dirpath) / name
                if is_document(path):
                    yield path


def _rel(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(os.path.relpath(path, root)).as_posix() if _inside(path, root) \
                else path.name
        except ValueError:
            pass
    return path.name


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
        return True
    except ValueError:
        return False


def _checked(path: Path, root: Path, within: Path, shown: str) -> InputFile:
    """``path`` found by a search under ``within``: refused when it resolves outside it (a
    symbolic link planted to make the job read another file)."""
    if escapes(path, within):
        return InputFile(str(path), _rel(path, root), f"{path}: symbolic link to a file outside "
                         f"{shown}; refusing it, copy the file into the folder instead")
    return InputFile(str(path), _rel(path, root))


def _from_directory(directory: Path, root: Path, shown: str) -> list[InputFile]:
    try:
        found = [_checked(p, root, directory, shown) for p in _walk(directory)]
    except PermissionError:
        return [InputFile(shown, Path(shown).name or shown,
                          f"{shown}: cannot read the directory (permission denied); "
                          "check its permissions")]
    if not found:
        return [InputFile(shown, Path(shown).name or shown,
                          f"{shown}: no documents found in this directory (looked for "
                          f"{_suffix_list()}); pass the files by name or check the path")]
    return found


def _expand_one(arg: str, base: Path | None, root_override: Path | None) -> list[InputFile]:
    path = Path(arg)
    if base is not None and not path.is_absolute():
        path = base / path
    shown = str(path) if base is not None else arg
    if _GLOB_CHARS.search(arg):
        pattern = str(path)
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            return [InputFile(shown, Path(arg).name, f"{shown}: no file matches this pattern; "
                              "check it (and quote it so that the shell leaves it alone)")]
        # The root of a glob is the folder before its first wildcard.
        head = _GLOB_CHARS.split(pattern, 1)[0]
        root = root_override or Path(head if head.endswith(os.sep) else os.path.dirname(head)
                                     or ".")
        out: list[InputFile] = []
        # A glob searches a folder as a directory argument does: what it finds must lie in the
        # folder before its first wildcard, symbolic links included.
        for m in matches:
            mp = Path(m)
            if mp.is_dir():
                if escapes(mp, root):
                    out.append(_checked(mp, root, root, str(root)))
                else:
                    out.extend(_checked(p, root, root, str(root)) for p in _walk(mp))
            elif mp.is_file() and is_document(mp):
                out.append(_checked(mp, root, root, str(root)))
        if not out:
            return [InputFile(shown, Path(arg).name, f"{shown}: the pattern matches no "
                              f"documents ({_suffix_list()}); check it")]
        return out
    if path.is_dir():
        return _from_directory(path, root_override or path, shown)
    if path.exists() or path.is_symlink():
        if not path.exists():
            return [InputFile(shown, path.name, f"{shown}: broken symbolic link; fix or "
                              "remove it")]
        return [InputFile(str(path), _rel(path, root_override))]
    return [InputFile(shown, path.name or shown,
                      f"{shown}: no such file or directory; check the path")]


def _expand_manifest(arg: str) -> list[InputFile]:
    manifest = Path(arg[1:])
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [InputFile(str(manifest), manifest.name,
                          f"{manifest}: manifest not found; check the path after @")]
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        return [InputFile(str(manifest), manifest.name, f"{manifest}: cannot read the manifest "
                          f"({reason}); it must be a UTF-8 text file with one path a line")]
    base = manifest.parent
    out: list[InputFile] = []
    entries = [line.strip() for line in text.splitlines()]
    entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        return [InputFile(str(manifest), manifest.name,
                          f"{manifest}: the manifest lists no paths; put one path a line")]
    for entry in entries:
        out.extend(_expand_one(entry, base, base))
    return out


def expand(args: Sequence[str]) -> list[InputFile]:
    """All input files named by ``args``, in order, each real file once."""
    out: list[InputFile] = []
    seen: set[str] = set()
    for arg in args:
        items = _expand_manifest(arg) if arg.startswith("@") and len(arg) > 1 \
            else _expand_one(arg, None, None)
        for item in items:
            if item.error is None:
                key = os.path.realpath(item.source)
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
    return out


_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


def safe_relpath(rel: str) -> str:
    """``rel`` made safe to join under an output folder: no absolute path, no ``..``, no
    control or reserved characters, no empty or dot-only parts."""
    parts = []
    for part in PurePosixPath(rel.replace("\\", "/")).parts:
        if part in ("/", ".", ".."):
            continue
        parts.append(clean_part(_UNSAFE.sub("_", part)))
    return "/".join(parts) or "document"


def output_bases(rels: Sequence[str]) -> list[str]:
    """Output names without extension for the given input paths: ``a/b.txt`` -> ``a/b``.

    Where two inputs would land on the same name (``b.txt`` and ``b.md``), each keeps its
    full name (``a/b.txt`` -> ``a/b.txt`` + extension) so that no output overwrites another.
    """
    safe = [safe_relpath(r) for r in rels]
    stripped = []
    for s in safe:
        p = PurePosixPath(s)
        stripped.append(str(p.with_suffix("")) if p.suffix.lower() in DOCUMENT_SUFFIXES and
                        p.stem else s)
    # each name in the form fetch writes it: stripping an extension can leave a trailing space
    # that cleaning removes later ("a .txt" -> "a"), which would meet another's name
    stripped = [safe_relpath(s) for s in stripped]
    counts: dict[str, int] = {}
    for s in stripped:
        counts[s.lower()] = counts.get(s.lower(), 0) + 1
    out = []
    used: set[str] = set()
    for s, full in zip(stripped, safe):
        name = s if counts[s.lower()] == 1 else full
        candidate, n = name, 1
        while candidate.lower() in used:  # the same relative path twice (two roots)
            n += 1
            candidate = _numbered(name, n)
        used.add(candidate.lower())
        out.append(candidate)
    return out


def _numbered(name: str, n: int) -> str:
    """``name`` with ``-n`` appended, its last part shortened so that cleaning, which cuts a
    part at its byte limit, cannot cut the number off again."""
    head, _, last = name.rpartition("/")
    suffix = f"-{n}"
    last = truncate_utf8(last, MAX_NAME_BYTES - len(suffix)).rstrip(" ") or "_"
    return safe_relpath(f"{head}/{last}{suffix}" if head else f"{last}{suffix}")
