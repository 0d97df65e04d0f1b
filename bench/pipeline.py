"""Throughput of the batch pipeline against raw liblouis over the same texts, in the same run.

    .venv/bin/python bench/pipeline.py                    # 1,000 documents of ~5 KB
    .venv/bin/python bench/pipeline.py -n 200 --json

Measures, over the same generated English documents:
  raw liblouis   louis.translateString on every line, one process, nothing else
  convert        `braillejobs convert` in-process: job recorded in SQLite, pipeline, files written
  queued         submit -> Redis -> one `braillejobs worker` (threads pool) -> results stored
                 (timed from the start of submit until every document is stored; the worker is
                 started and ready beforehand), with Celery's task events and heartbeats on (the
                 default) and again with them off (BRAILLEJOBS_WORKER_EVENTS=false)
and prints documents/s, characters/s and each path's ratio to raw liblouis (goal: >= 0.8).
Needs Redis for the queued path (--broker-url; --skip-queued leaves it out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_documents(folder: Path, count: int, size: int, seed: int = 7) -> list[Path]:
    """``count`` distinct English documents of about ``size`` bytes, from the bundled examples."""
    paragraphs: list[str] = []
    for src in sorted((ROOT / "examples").iterdir()):
        if src.suffix in (".txt", ".md"):
            text = src.read_text(encoding="utf-8")
            paragraphs += [re.sub(r"\s+", " ", p).strip() for p in text.split("\n\n")
                           if len(p.strip()) > 60 and not p.lstrip().startswith(("#", "-", ">"))]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        parts = [f"Document {i + 1} of {count}, part of a batch of sample texts."]
        while sum(len(p) + 2 for p in parts) < size:
            parts.append(rng.choice(paragraphs))
        path = folder / f"doc{i:05d}.txt"
        path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def raw_louis(paths: list[Path], table: str) -> tuple[float, int]:
    import louis

    texts = [p.read_text(encoding="utf-8") for p in paths]
    mode = louis.dotsIO | louis.ucBrl
    chars = 0
    started = time.perf_counter()
    for text in texts:
        for line in text.split("\n"):
            if line:
                louis.translateString([table], line, mode=mode)
                chars += len(line)
    return time.perf_counter() - started, chars


def run_convert(paths: list[Path], work: Path, fmt: str) -> float:
    os.environ["BRAILLEJOBS_DATABASE_URL"] = f"sqlite:///{work / 'convert.db'}"
    from braillejobs import jobs
    from braillejobs.db.session import ensure_schema

    ensure_schema()  # creating an empty database is set-up, not throughput
    options = jobs.JobOptions.build(format=fmt, engine="louis")
    started = time.perf_counter()
    result = jobs.convert([str(paths[0].parent)], work / "out-convert", options)
    elapsed = time.perf_counter() - started
    if result.counts["done"] != len(paths):
        raise SystemExit(f"convert: only {result.counts['done']} of {len(paths)} done")
    return elapsed


def run_queued(paths: list[Path], work: Path, fmt: str, broker: str, db_url: str | None,
               events: bool = True) -> float:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    db_url = db_url or f"sqlite:///{work / ('queued.db' if events else 'queued-quiet.db')}"
    env = dict(os.environ, BRAILLEJOBS_DATABASE_URL=db_url, BRAILLEJOBS_BROKER_URL=broker,
               BRAILLEJOBS_QUEUE=queue, BRAILLEJOBS_GPU_QUEUE=queue + "-gpu",
               BRAILLEJOBS_WAIT_POLL_SECONDS="0.05",
               BRAILLEJOBS_WORKER_EVENTS="true" if events else "false",
               BRAILLEJOBS_DEDUP="false")   # both runs translate every document
    os.environ.update({k: v for k, v in env.items() if k.startswith("BRAILLEJOBS_")})
    from braillejobs import jobs, queue as bj_queue
    from braillejobs.db import session

    session.dispose_all()
    bj_queue._cached_app.cache_clear()
    session.ensure_schema()
    log = open(work / "worker.log", "w")
    exe = Path(sys.executable).parent / "braillejobs"
    worker = subprocess.Popen([str(exe), "worker", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(broker, queue, worker)
        options = jobs.JobOptions.build(format=fmt, engine="louis")
        started = time.perf_counter()
        created = jobs.submit([str(paths[0].parent)], options, name="bench")
        info = jobs.wait(created.job_id, timeout=3600)
        elapsed = time.perf_counter() - started
        if info["done"] != len(paths):
            raise SystemExit(f"queued: only {info['done']} of {len(paths)} done; see "
                             f"{work / 'worker.log'}")
        return elapsed
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
        import redis
        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)


def _wait_ready(broker: str, queue: str, worker: subprocess.Popen) -> None:
    """Wait until the worker consumes from the queue (a probe message is taken)."""
    import redis

    client = redis.Redis.from_url(broker)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit("the worker exited at start-up; see worker.log")
        # kombu registers the queue binding when the worker starts consuming
        if any(client.scan_iter(match=f"_kombu.binding.{queue}*")):
            time.sleep(0.5)
            return
        time.sleep(0.2)
    raise SystemExit("the worker did not start within 120 s")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--documents", type=int, default=1000)
    ap.add_argument("--size", type=int, default=5000, help="bytes per document (about)")
    ap.add_argument("--format", default="brf")
    ap.add_argument("--table", default="en-ueb-g2.ctb")
    ap.add_argument("--broker-url", default=os.environ.get("BRAILLEJOBS_BENCH_BROKER",
                                                           "redis://127.0.0.1:6379/10"))
    ap.add_argument("--database-url", default=None,
                    help="database for the queued path (default: SQLite in a temp dir)")
    ap.add_argument("--skip-queued", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (worker.log)")
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="bj-bench-")
    try:
        work = Path(tmp)
        os.environ["BRAILLEJOBS_DATA_DIR"] = str(work / "data")
        paths = make_documents(work / "docs", args.documents, args.size)
        total_bytes = sum(p.stat().st_size for p in paths)
        results = {}
        raw_s, chars = raw_louis(paths, args.table)
        results["raw liblouis"] = raw_s
        results["convert"] = run_convert(paths, work, args.format)
        if not args.skip_queued:
            results["queued"] = run_queued(paths, work, args.format, args.broker_url,
                                           args.database_url)
            # the same without Celery's task events and heartbeats: their cost
            results["queued, no events"] = run_queued(paths, work, args.format,
                                                      args.broker_url, args.database_url,
                                                      events=False)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    n = len(paths)
    report = {"documents": n, "bytes": total_bytes, "chars": chars, "format": args.format,
              "paths": {name: {"seconds": round(s, 3), "documents_per_s": round(n / s, 1),
                               "chars_per_s": round(chars / s),
                               "ratio_to_liblouis": round(raw_s / s, 3)}
                        for name, s in results.items()}}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{n} documents, {total_bytes / n / 1000:.1f} KB each, {chars:,} characters, "
          f"format {args.format}")
    print(f"{'path':<19}{'seconds':>9}{'docs/s':>10}{'chars/s':>12}{'vs liblouis':>13}")
    for name, r in report["paths"].items():
        print(f"{name:<19}{r['seconds']:>9.2f}{r['documents_per_s']:>10.1f}"
              f"{r['chars_per_s']:>12,}{r['ratio_to_liblouis']:>13.2f}")


if __name__ == "__main__":
    main()
