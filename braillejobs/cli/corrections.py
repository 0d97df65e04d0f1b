"""``braillejobs corrections``: a transcriber's rulings on how words are written in braille."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from .. import config
from ..corrections import CorrectionError
from ..db.models import GLOBAL_CORRECTIONS
from ..translate.engine import TABLES
from .terminal import echo, echo_json, human_time, print_table

_SET_HELP = f"Corrections set (per collection or customer) [default: {GLOBAL_CORRECTIONS}]."


def _table_option(func):
    return click.option("--table", type=click.Choice(TABLES), default=None,
                        help="liblouis table [default: setting table].")(func)


def _author(given: str | None) -> str | None:
    if given is not None:
        return given
    try:
        return getpass.getuser()
    except Exception:   # no user name in a bare container
        return None


@click.group()
def corrections() -> None:
    """Corrections: print text (a word or a phrase) and the braille it must become.

    Kept in the database, in the global set or in named sets (per collection or customer).
    Braille is given as Unicode braille (⠙⠁⠗⠑) or as BRF (DARE, any case). A correction
    whose braille liblouis does not read back as its print text is refused with the reason,
    unless --force.
    """


@corrections.command("add")
@click.argument("print_text", metavar="PRINT")
@click.argument("braille")
@_table_option
@click.option("--set", "set_name", default=None, help=_SET_HELP)
@click.option("--note", default=None, help="Why, for the next transcriber (a rule number...).")
@click.option("--author", default=None, help="Who rules so [default: your user name].")
@click.option("--force", is_flag=True,
              help="Store it even where liblouis reads the braille back as other print.")
@click.option("--replace", is_flag=True, help="Replace an existing correction of PRINT.")
def add_cmd(print_text, braille, table, set_name, note, author, force, replace) -> None:
    """Add a correction: PRINT must become BRAILLE."""
    from ..corrections import store

    item = store.propose(print_text, braille, table=table or config.get("table"),
                         set_name=set_name, note=note, author=_author(author), force=force)
    row, what = store.add(item, replace=replace)
    from ..corrections.braille import brf

    echo(f"{what} correction {row.id} in set {row.set_name} ({row.table}): "
         f"{row.print_text!r} -> {row.braille} ({brf(row.braille)})")


@corrections.command("list")
@_table_option
@click.option("--set", "set_name", default=None, help="Only this set [default: every set].")
@click.option("--json", "as_json", is_flag=True, help="JSON, one object a correction.")
def list_cmd(table, set_name, as_json) -> None:
    """List the corrections."""
    from ..corrections import files, store

    rows = store.listing(set_name=set_name, table=table)
    if as_json:
        echo_json([{"id": r.id, **files.record(r)} for r in rows])
        return
    if not rows:
        echo("no corrections" + (f" in set {set_name}" if set_name else ""), err=True)
        return
    print_table(None, ["id", "set", "table", "print", "braille", "brf", "origin", "author",
                       "created", "note"],
                [[str(r.id), r.set_name, r.table, r.print_text, r.braille,
                  files.brf(r.braille), r.origin, r.author or "-", human_time(r.created_at),
                  r.note or ""] for r in rows])


@corrections.command("remove")
@click.argument("keys", nargs=-1, required=True, metavar="ID_OR_PRINT...")
@_table_option
@click.option("--set", "set_name", default=None, help=_SET_HELP + " For print text only.")
def remove_cmd(keys, table, set_name) -> None:
    """Remove corrections by id or by print text (all or none)."""
    from ..corrections import store

    for row in store.remove(keys, set_name=set_name, table=table):
        echo(f"removed correction {row.id} in set {row.set_name} ({row.table}): "
             f"{row.print_text!r} -> {row.braille}")


def _stored(counts: dict[str, int]) -> str:
    """What ``store.add_many`` did, in words."""
    return (f"{counts['added']} added, {counts['replaced']} replaced, "
            f"{counts['unchanged']} unchanged"
            + (f", {counts['kept']} kept as they were (they differ: --replace)"
               if counts["kept"] else ""))


@corrections.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="File format [default: from the name, .jsonl or .csv].")
@_table_option
@click.option("--set", "set_name", default=None,
              help="Put every correction in this set [default: each row's set, else global].")
@click.option("--author", default=None, help="Author of rows that name none.")
@click.option("--force", is_flag=True,
              help="Store rows whose braille liblouis reads back as other print.")
@click.option("--replace", is_flag=True,
              help="Replace existing corrections that the file rules otherwise.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
def import_cmd(path, fmt, table, set_name, author, force, replace, dry_run) -> None:
    """Import corrections from a JSON Lines or CSV file, checked whole first (all or none).

    Columns or keys: print, braille (Unicode or BRF; or brf), and optionally table, set, note,
    author."""
    from ..corrections import files, store

    items = files.proposals(path, files.format_of(path, fmt),
                            table=table or config.get("table"), set_name=set_name,
                            author=_author(author), force=force)
    if dry_run:
        echo(f"{path}: {len(items)} corrections checked; nothing stored (--dry-run)")
        return
    echo(f"{path}: {_stored(store.add_many(items, replace=replace))}")


@corrections.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
                default=Path("-"))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="File format [default: from the name; jsonl on standard output].")
@_table_option
@click.option("--set", "set_name", default=None, help="Only this set [default: every set].")
def export_cmd(path, fmt, table, set_name) -> None:
    """Export corrections as JSON Lines or CSV (to PATH, or standard output)."""
    from ..corrections import files, store

    to_stdout = str(path) == "-"
    fmt = fmt or ("jsonl" if to_stdout else files.format_of(path, None))
    text = files.write(store.listing(set_name=set_name, table=table), fmt)
    if to_stdout:
        sys.stdout.write(text)
        return
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(path)
    except OSError as exc:
        raise CorrectionError(f"{path}: cannot write it ({exc.strerror})") from None
    echo(f"{path}: {text.count(chr(10)) - (1 if fmt == 'csv' else 0)} corrections", err=True)


def _numbers(given: str, count: int) -> list[int]:
    """--accept: "all", or numbers and ranges (1,3,5-7) of the listed proposals."""
    if given.strip().lower() == "all":
        return list(range(1, count + 1))
    chosen: list[int] = []
    for part in given.split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        if not (lo.isdigit() and (not hi or hi.isdigit())):
            raise click.BadParameter(f"{part!r}: give all, or numbers and ranges (1,3,5-7)",
                                     param_hint="--accept")
        for n in range(int(lo), int(hi or lo) + 1):
            if not 1 <= n <= count:
                raise click.BadParameter(f"{n} is not one of the {count} proposals",
                                         param_hint="--accept")
            if n not in chosen:
                chosen.append(n)
    return chosen


@corrections.command("learn")
@click.argument("ref", metavar="JOB_OR_DOCUMENT")
@click.argument("edited", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--document", default=None, metavar="PATH",
              help="The document of the job (its path as the job shows it), when it has several.")
@click.option("--accept", default=None, metavar="all|N,N-M",
              help="Store these proposals (all, or their numbers) [default: only list them].")
@click.option("--set", "set_name", default=None,
              help="Corrections set to store them in [default: the job's set, else global].")
@click.option("--author", default=None, help="Who made the edits [default: your user name].")
@click.option("--force", is_flag=True,
              help="Also store accepted proposals that liblouis reads back as other print.")
@click.option("--replace", is_flag=True,
              help="Replace existing corrections that the edits rule otherwise.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def learn_cmd(ref, edited, document, accept, set_name, author, force, replace, as_json) -> None:
    """Propose corrections from a transcriber's edited braille file.

    Compares the braille stored for a document (JOB_OR_DOCUMENT: a job id with one document,
    or with --document PATH, or a document id) with EDITED (BRF, Unicode braille or PEF),
    page numbers and line breaks ignored, and lists each word the transcriber changed with its
    print word. Nothing is stored unless --accept names them."""
    from ..corrections import learn, store
    from ..corrections.braille import brf

    written = learn.written_for(ref, document)
    edited_words = learn.edited_words(edited)
    set_name = set_name or written.corrections_set
    note = f"learned from {edited.name} (job {written.job_id[:8]}, {written.path})"
    who = _author(author)
    found = learn.learn(written.words, edited_words, written.prints, written.table,
                        set_name=set_name, note=note, author=who)
    items = found.proposals
    if as_json and accept is None:
        echo_json({"job": written.job_id, "document": written.path,
                   "written_words": len(written.words), "edited_words": len(edited_words),
                   "changed_words": found.changed_words, "unpaired": found.unpaired,
                   "proposals": [{"number": n, "print": p.print_text, "written": p.written,
                                  "edited": p.edited, "brf": brf(p.edited),
                                  "places": [{"page": pg, "line": row} for pg, row in p.places],
                                  "refused": p.refused} for n, p in enumerate(items, 1)]})
        return
    echo(f"{written.path} (job {written.job_id[:8]}): {len(written.words):,} words written, "
         f"{found.changed_words} changed in {edited.name}; {len(items)} proposed corrections"
         + (f"; {found.unpaired} changes with no print word behind them (added or removed "
            "text, page furniture) left out" if found.unpaired else ""), err=True)
    for n, p in enumerate(items, 1):
        where = ", ".join(f"page {pg} line {row}" for pg, row in p.places[:5]) + \
            (f" and {len(p.places) - 5} more" if len(p.places) > 5 else "")
        echo(f"{n:>3}. {p.print_text}: {p.written} → {p.edited} ({brf(p.written)} → "
             f"{brf(p.edited)}), {len(p.places)} place{'s' if len(p.places) > 1 else ''}: "
             f"{where}" + (f"\n     refused: {p.refused}" if p.refused else ""))
    if accept is None:
        if items:
            echo(f"store them with --accept all, or --accept 1,3 for some (set "
                 f"{set_name or GLOBAL_CORRECTIONS})", err=True)
        return
    chosen = _numbers(accept, len(items))
    refused = [n for n in chosen if items[n - 1].refused]
    if refused and not force:
        raise CorrectionError(
            f"proposal{'s' if len(refused) > 1 else ''} {', '.join(map(str, refused))}: liblouis "
            "does not read the edited braille back as the print (see above); leave them out, "
            "or store them anyway with --force")
    proposed = [store.propose(items[n - 1].print_text, items[n - 1].edited,
                              table=written.table, set_name=set_name, note=note, author=who,
                              origin="learned", force=force) for n in chosen]
    echo(f"{_stored(store.add_many(proposed, replace=replace))} in set "
         f"{set_name or GLOBAL_CORRECTIONS}")


COMMANDS: list[click.Command] = [corrections]
