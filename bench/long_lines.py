"""One document that is a single very long line: each stage's time against its length.

    .venv/bin/python bench/long_lines.py                   # 1.25 MB and 10 MB lines
    .venv/bin/python bench/long_lines.py --mb 2 --growth 4 --json

A text export with no line breaks, a minified page or one huge number reaches the pipeline as one
line of megabytes. For a line of ``--mb`` MB and one ``--growth`` times smaller, of prose and of
one unbroken token, this times in one run:

  raw liblouis   louis.translateString on the whole line, one call (the reference)
  read           formats.prepare: reader and flow (text to the engine's lines)
  translate      the louis engine (long lines in pieces, see translate/louis_engine.py)
  layout         formats.finish to BRF: line filling and pages

and prints seconds, the ratio large/small (``growth`` when linear, ``growth**2`` when quadratic)
and each stage's time as a share of raw liblouis on the same text. Timing lives here, not in the
tests: the machines that run the tests are shared.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TABLE = "en-ueb-g2.ctb"


def prose(n: int) -> str:
    rng = random.Random(n)
    vocabulary = ("the Lighthouse keeper wrote 42 letters and 3.5 poems about The SEA while "
                  "knowledge of children's e-mail grew").split()
    out, size = [], 0
    while size < n:
        out.append(rng.choice(vocabulary))
        size += len(out[-1]) + 1
    return " ".join(out)[:n]


def token(n: int) -> str:
    return ("1234567890" * (n // 10 + 1))[:n]


def best(fn, runs: int) -> tuple[float, object]:
    best_s, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best_s = min(best_s, time.perf_counter() - started)
    return best_s, result


def measure(text: str, runs: int) -> dict[str, float]:
    import louis

    from braillejobs.formats import RenderOptions, finish, prepare
    from braillejobs.translate.louis_engine import LouisEngine

    mode = louis.dotsIO | louis.ucBrl
    options = RenderOptions(format="brf")
    engine = LouisEngine(TABLE)
    times: dict[str, float] = {}
    times["raw liblouis"], _ = best(lambda: louis.translateString([TABLE], text, mode=mode), runs)
    times["read"], prepared = best(lambda: prepare(text.encode(), "long.txt", options), runs)
    times["translate"], translations = best(
        lambda: engine.translate_lines(prepared.lines, prepared.typeforms), runs)
    times["layout"], _ = best(lambda: finish(prepared, translations), runs)
    return times


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=10.0, help="size of the large line, MB")
    ap.add_argument("--growth", type=int, default=8, help="large / small size")
    ap.add_argument("--runs", type=int, default=2, help="runs of each stage; the fastest counts")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    large = int(args.mb * 1_000_000)
    small = large // args.growth
    report: dict[str, dict] = {}
    for kind, make in (("prose", prose), ("token", token)):
        t_small = measure(make(small), args.runs)
        t_large = measure(make(large), args.runs)
        report[kind] = {stage: {"small_s": round(t_small[stage], 3),
                                "large_s": round(t_large[stage], 3),
                                "growth": round(t_large[stage] / max(t_small[stage], 1e-6), 1),
                                "share_of_liblouis": round(
                                    t_large[stage] / t_large["raw liblouis"], 3)}
                        for stage in t_large}
    if args.json:
        print(json.dumps({"small_chars": small, "large_chars": large, "growth": args.growth,
                          "stages": report}, indent=2))
        return
    print(f"one line of {small:,} and of {large:,} characters (x{args.growth}: linear stages "
          f"grow about {args.growth}x, quadratic ones {args.growth ** 2}x)")
    for kind, stages in report.items():
        print(f"\n{kind}")
        print(f"{'stage':<14}{'small s':>9}{'large s':>9}{'growth':>8}{'vs liblouis':>13}")
        for stage, r in stages.items():
            print(f"{stage:<14}{r['small_s']:>9.3f}{r['large_s']:>9.3f}{r['growth']:>8.1f}"
                  f"{r['share_of_liblouis']:>13.2f}")


if __name__ == "__main__":
    main()
