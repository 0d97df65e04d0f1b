"""Job commands: translate, convert, submit, status, jobs, fetch, cancel, retry, worker, config,
db. Command names, options and behaviours here are a contract that outside scripts use."""

from __future__ import annotations

import sys
import time

import click

from .. import config, formats
from ..db.models import JOB_STATES, PRIORITIES
from ..translate.engine import ENGINE_NAMES, TABLES
from .terminal import Bar, echo, echo_json, human_bytes, print_errors, print_warnings


def _job_options(func):
    """The options of a conversion job, shared by convert and submit."""
    opts = [
        click.option("--format", "format_", type=click.Choice(formats.FORMATS), default=None,
                     help="Output format [default: setting format]."),
        click.option("--engine", type=click.Choice(ENGINE_NAMES), default=None,
                     help="Translation engine [default: setting engine]."),
        click.option("--table", type=click.Choice(TABLES), default=None,
                     help="liblouis table: en-ueb-g2.ctb (grade 2) or en-ueb-g1.ctb (grade 1) "
                     "[default: setting table]."),
        click.option("--cells-per-line", type=int, default=None,
                     help="Cells per braille line for page layouts [default: 40]."),
        click.option("--lines-per-page", type=int, default=None,
                     help="Lines per braille page [default: 25]."),
        click.option("--duplex/--no-duplex", default=False,
                     help="Lay out for double-sided embossing."),
        click.option("--volume-sheets", type=int, default=None,
                     help="Most sheets per volume (PEF) [default: 50]."),
        click.option("--corrections", "corrections", default=None, metavar="SET",
                     help="Also apply this set of transcribers' corrections, over the global "
                     "set (which every job applies)."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def _build_options(format_, engine, table, cells_per_line, lines_per_page, duplex,
                   volume_sheets, corrections):
    from ..jobs import JobOptions

    return JobOptions.build(format=format_, engine=engine, table=table,
                            cells_per_line=cells_per_line, lines_per_page=lines_per_page,
                            duplex=duplex, volume_sheets=volume_sheets, corrections=corrections)


# --- translate ----------------------------------------------------------------------------

@click.command()
@click.option("--engine", type=click.Choice(ENGINE_NAMES), default=None,
              help="Translation engine [default: setting engine].")
@click.option("--table", type=click.Choice(TABLES), default=None,
              help="liblouis table [default: setting table].")
@click.option("--output-format", type=click.Choice(["unicode", "brf"]), default="unicode",
              show_default=True, help="Unicode braille cells or North American ASCII braille.")
@click.option("--corrections", "corrections_set", default=None, metavar="SET",
              help="Also apply this corrections set, over the global one.")
@click.option("--no-corrections", is_flag=True,
              help="Apply no correction (and do not open the database).")
def translate(engine, table, output_format, corrections_set, no_corrections):
    """Translate stdin to braille on stdout, one output line per input line.

    The transcribers' corrections (`braillejobs corrections`) of the global set, and of
    --corrections SET over it, are applied by every engine."""
    from ..translate.registry import get_engine

    if no_corrections and corrections_set:
        raise click.UsageError("--corrections and --no-corrections exclude each other")
    table = table or config.get("table")
    active = None
    if not no_corrections:
        from ..corrections.active import load

        active = load(table, corrections_set)
    eng = get_engine(engine or config.get("engine"), table, active)
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    batch_size = 1 if sys.stdin.isatty() else 1000

    def emit(lines: list[str]) -> None:
        results = eng.translate_lines(lines)
        text = "".join((formats.to_brf(r.braille) if output_format == "brf" else r.braille)
                       + "\n" for r in results)
        if out is not None:
            out.write(text.encode("utf-8"))
            out.flush()
        else:
            sys.stdout.write(text)

    batch: list[str] = []
    source = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    for number, raw in enumerate(source if source is not None else sys.stdin, 1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise click.ClickException(f"stdin line {number} is not UTF-8 text; "
                                           "convert the input to UTF-8") from None
        # a byte-order mark is no text (text files joined by cat hold one where each began),
        # and a carriage return inside a line is white space, as liblouis reads it
        batch.append(raw.rstrip("\n").rstrip("\r").replace("\ufeff", "").replace("\r", " "))
        if len(batch) >= batch_size:
            emit(batch)
            batch = []
    if batch:
        emit(batch)


# --- convert (embedded) ---------------------------------------------------------------------

@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory; each document goes to OUTDIR/<path relative to its "
              "input root>.<ext>.")
@click.option("--name", default=None, help="A name for the job.")
@_job_options
def convert(paths, outdir, name, **opts):
    """Convert documents here, in this process (no Redis; the job is recorded in the DB).

    PATH is a file, a directory (searched recursively), a glob or @manifest.txt.
    """
    from ..jobs import convert as run_convert, warnings

    options = _build_options(**opts)
    started = time.perf_counter()
    with Bar("converting") as bar:
        result = run_convert(paths, outdir, options, name=name, progress=bar.update)
    elapsed = time.perf_counter() - started
    print_errors(result.errors)
    print_warnings(warnings(result.job_id, limit=51), limit=50)
    counts = result.counts
    total = sum(counts.values())
    stats = result.stats
    echo(f"job {result.job_id}: {counts['done']} of {total} documents converted "
               f"({stats.deduplicated} reused), {counts['failed']} failed, "
               f"{stats.chars:,} characters in {elapsed:.1f} s; "
               f"{len(result.written)} files in {outdir}"
               + (f" ({len(result.write_errors)} could not be written)"
                  if result.write_errors else ""), err=True)
    if options.engine == "best" and stats.chars:   # which engine that was here, and why
        from ..translate.registry import best_choice

        chosen = best_choice()
        if chosen:
            echo(f"engine best ran as {chosen[0]}: {chosen[1]} (--engine or "
                 "BRAILLEJOBS_ENGINE chooses another)", err=True)
    if counts["failed"] or counts["done"] != total or result.write_errors:
        sys.exit(1)


# --- the queued path ------------------------------------------------------------------------

@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--name", default=None, help="A name for the job.")
@click.option("--priority", type=click.Choice(PRIORITIES), default=None,
              help="Queue priority [default: setting priority].")
@click.option("--wait", is_flag=True, help="Wait until the job has finished, with progress.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after SECONDS.")
@_job_options
def submit(paths, name, priority, wait, timeout, **opts):
    """Record a job and queue it for the workers; prints the job id.

    PATH is a file, a directory (searched recursively), a glob or @manifest.txt.
    """
    from .. import jobs

    options = _build_options(**opts)
    priority = priority or config.get("priority")
    if priority not in PRIORITIES:
        raise jobs.JobError(f"{config.setting('priority').env_var}={priority!r}: choose one "
                            f"of {', '.join(PRIORITIES)}")
    created = jobs.submit(paths, options, name=name, priority=priority)
    print_errors(created.errors)
    print_warnings(created.warnings)
    echo(created.job_id)
    echo(f"queued {len(created.queued_ids)} of {created.total} documents on "
         f"{created.queue} ({len(created.errors)} rejected)", err=True)
    if not wait:
        if created.errors:
            sys.exit(1)
        return
    with Bar("translating") as bar:
        info = jobs.wait(created.job_id, timeout=timeout,
                         on_progress=lambda i: bar.update(i["done"] + i["failed"] +
                                                          i["cancelled"], i["total"]))
    print_errors([e for e in jobs.errors(created.job_id) if e not in created.errors])
    echo(f"job {info['id']}: {info['state']}: {info['done']} done "
               f"({info['deduplicated']} reused), {info['failed']} failed, "
               f"{info['cancelled']} cancelled of {info['total']}", err=True)
    if info["state"] != "done":
        sys.exit(1)


def _progress_line(info: dict) -> str:
    name = f" {info['name']}" if info["name"] else ""
    return (f"{info['id']}{name}  {info['state']:<9} {info['done'] + info['failed']}/"
            f"{info['total']}  queued {info['queued']}  running {info['running']}  "
            f"done {info['done']}  failed {info['failed']}  cancelled {info['cancelled']}  "
            f"{info['options']['format']}/{info['options']['engine']}"
            + (f"+{info['options']['corrections']}" if info["options"].get("corrections")
               else "") + f"  {info['created_at']}")


def _corrections_line(used: dict[str, dict[str, int]]) -> str:
    """One line: the corrections the job's documents applied, most used first."""
    totals: dict[str, int] = {}
    for counts in used.values():
        for text, n in counts.items():
            totals[text] = totals.get(text, 0) + n
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{text!r} {n}x" for text, n in top[:8])
    more = f", and {len(top) - 8} more" if len(top) > 8 else ""
    return (f"corrections applied: {sum(totals.values())} uses of {len(totals)} in "
            f"{len(used)} documents ({shown}{more})")


@click.command()
@click.argument("job", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(job, as_json):
    """Progress of one job, or of the unfinished jobs (queued/running/done/failed counts)."""
    from .. import jobs

    if job:
        info = jobs.progress(job)
        used = jobs.corrections_used(job)
        if as_json:
            info["errors"] = jobs.errors(job)
            info["warnings"] = jobs.warnings(job)
            info["corrections_used"] = used
            echo_json(info)
        else:
            echo(_progress_line(info))
            if used:
                echo(_corrections_line(used))
            print_errors(jobs.errors(job), limit=10)
            print_warnings(jobs.warnings(job, limit=11), limit=10)
        return
    infos = jobs.list_jobs("running", limit=100) + jobs.list_jobs("queued", limit=100)
    if as_json:
        echo_json(infos)
        return
    if not infos:
        echo("no unfinished jobs; `braillejobs jobs` lists recent ones", err=True)
    for info in infos:
        echo(_progress_line(info))


@click.command(name="jobs")
@click.option("--state", type=click.Choice(JOB_STATES), default=None, help="Only this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def jobs_cmd(state, limit, as_json):
    """List recent jobs, newest first."""
    from .. import jobs

    infos = jobs.list_jobs(state, limit)
    if as_json:
        echo_json(infos)
        return
    for info in infos:
        echo(_progress_line(info))


@click.command()
@click.argument("job")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory.")
def fetch(job, outdir):
    """Write the braille of a job's finished documents under OUTDIR."""
    from .. import jobs

    fetched = jobs.fetch(job, outdir)
    counts = fetched.counts
    total = sum(counts.values())
    print_errors(fetched.write_errors)
    echo(f"wrote {len(fetched.written)} files to {outdir}; {counts['done']} of {total} "
               f"done, {counts['failed']} failed, {counts['queued'] + counts['running']} not "
               f"finished, {counts['cancelled']} cancelled"
               + (f"; {len(fetched.write_errors)} not written" if fetched.write_errors else ""),
               err=True)
    if counts["done"] != total or fetched.write_errors:
        sys.exit(1)


@click.command()
@click.argument("job")
def cancel(job):
    """Cancel a job's queued documents (running ones finish)."""
    from .. import jobs

    done = jobs.cancel(job)
    if done.warning:
        print_warnings([done.warning])
    echo(f"cancelled {done.documents} queued documents"
         + (f"; took {done.messages} task messages out of the queue" if done.messages else ""),
         err=True)


@click.command()
@click.argument("job")
@click.option("--failed-only", is_flag=True,
              help="Only failed documents (by default cancelled ones too).")
def retry(job, failed_only):
    """Queue a job's failed (and cancelled) documents again."""
    from .. import jobs

    job_id, n = jobs.retry(job, failed_only=failed_only)
    echo(f"job {job_id}: requeued {n} documents", err=True)


@click.command()
@click.option("--older-than", "days", type=float, default=None,
              help="Days since a job finished [default: setting retention_days].")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["done", "failed", "cancelled"]),
              help="Only jobs in this state (repeatable) [default: every finished state].")
@click.option("--yes", is_flag=True,
              help="Delete. Without it, a dry run: what would be deleted, nothing deleted.")
@click.option("--every", type=click.FloatRange(min=60), default=None,
              help="Purge again every SECONDS, for ever (a retention service); needs --yes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def purge(days, states, yes, every, as_json):
    """Delete finished jobs, with their sources and braille, DAYS after they finished.

    A dry run unless --yes. Queued and running jobs are never deleted."""
    import time

    from ..jobs import retention

    if days is None:
        days = config.get("retention_days")
        if days <= 0:
            raise click.UsageError("give --older-than DAYS, or set "
                                   f"{config.setting('retention_days').env_var}")
    if every is not None and not yes:
        raise click.UsageError("--every deletes on a schedule: add --yes")
    while True:
        if not yes:
            found = retention.plan(days, states)
            if as_json:
                echo_json(found.as_dict() | {"deleted": False})
            else:
                echo(f"would delete {found.jobs} jobs finished before "
                     f"{found.before:%Y-%m-%d %H:%M %Z} ({', '.join(found.states)}): "
                     f"{found.documents} documents, {human_bytes(found.source_bytes)} of sources, "
                     f"{human_bytes(found.result_bytes)} of braille; run again with --yes to "
                     "delete them", err=True)
            return
        with Bar("purging jobs") as bar:
            done = retention.purge(days, states, progress=lambda n, total: bar.update(n, total))
        if as_json:
            echo_json(done.as_dict() | {"deleted": True})
        else:
            echo(f"deleted {done.jobs} jobs finished before {done.before:%Y-%m-%d %H:%M %Z}: "
                 f"{done.documents} documents, {human_bytes(done.source_bytes)} of sources, "
                 f"{human_bytes(done.result_bytes)} of braille", err=True)
        if every is None:
            return
        time.sleep(every)


# --- worker, config, db -------------------------------------------------------------------

@click.command()
@click.option("--queues", "-Q", default=None,
              help="Comma-separated queues to consume [default: the queue of this host's "
                   "hardware: setting gpu_queue with a CUDA device, else setting queue].")
@click.option("--concurrency", "-c", type=click.IntRange(1, 256), default=None,
              help="Tasks at once, in the threads pool "
              "[default: setting worker_concurrency].")
@click.option("--loglevel", "-l", default=None, help="Log level [default: setting log_level].")
@click.option("--hostname", "-n", default=None, help="Worker node name.")
def worker(queues, concurrency, loglevel, hostname):
    """Start a Celery worker that translates queued documents (threads pool)."""
    from workers.main import start

    start([q.strip() for q in queues.split(",") if q.strip()] if queues else None,
          concurrency, loglevel, hostname)


@click.command(name="config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_cmd(as_json):
    """Print the effective settings (secrets masked)."""
    values = config.masked()
    if as_json:
        echo_json(values)
        return
    for item in config.SETTINGS:
        echo(f"{item.name} = {values[item.name]}    [{item.env_var}]")


@click.group()
def db():
    """Database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision):
    """Bring the database schema to the latest (or given) revision."""
    from ..config import ConfigError
    from ..db import session

    try:
        rev = session.upgrade(revision=revision)
    except (ConfigError, session.DatabaseError):
        raise  # already says what to do (the group prints it)
    except Exception as exc:
        raise click.ClickException(
            f"cannot upgrade {config.mask_url(config.get('database_url'))}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}; check "
            f"{config.setting('database_url').env_var}") from None
    echo(f"database at revision {rev}", err=True)


@db.command()
def current():
    """Print the database's schema revision."""
    from ..db import session

    rev = session.current_revision(session.get_engine())
    echo(rev or "none (empty database: `braillejobs db upgrade` creates the schema)")


COMMANDS: list[click.Command] = [translate, convert, submit, status, jobs_cmd, fetch, cancel,
                                 retry, purge, worker, config_cmd, db]
