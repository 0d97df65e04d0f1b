"""Throughput of the engines, text in to braille out, with liblouis measured in the same run.

    python bench/translate.py --data corpus/heldout.txt            # CPU figures
    python bench/translate.py --device cuda --louis-procs 0        # GPU, liblouis on every core
    python bench/translate.py --cnn large=runs/cnn-large.pt        # and another CNN checkpoint

Prints chars/s of liblouis (one process, and ``--louis-procs`` processes when asked), cnn, rnn and
auto, and each engine's ratio to liblouis. Then the cnn engine's stages, each timed alone on the
same text: code points to the device, the model (argmax included) and the decoding (cells back
to the host and into text, with liblouis's chunk ids as the input so no model runs). Their
inverse sum is about the engine's speed; the stages apart show what bounds it. Then auto's
checks on the host (indicator and novel-word), each alone on the CNN's tags: they run on the
CPU whatever the device, so they bound auto on a GPU. Prints JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from braillejobs.translate.engine import EngineError  # noqa: E402
from braillejobs.translate.registry import get_engine


def load_text(path: Path | None, chars: int) -> list[str]:
    lines: list[str] = []
    total = 0
    sources = [path] if path else sorted((ROOT / "examples").rglob("*.txt")) + \
        sorted((ROOT / "examples").rglob("*.md"))
    while total < chars:
        before = total
        for src in sources:
            for line in Path(src).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    lines.append(line)
                    total += len(line)
                    if total >= chars:
                        return lines
        if total == before:
            raise SystemExit(f"no text found in {sources}")
    return lines


def _louis_chunk(args: tuple[str, list[str]]) -> int:
    table, lines = args
    engine = get_engine("louis", table)
    engine.translate_lines(lines)
    return sum(len(line) for line in lines)


def bench_louis_parallel(table: str, lines: list[str], procs: int) -> float:
    size = max(1, len(lines) // (procs * 8))
    chunks = [(table, lines[i:i + size]) for i in range(0, len(lines), size)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(procs) as pool:
        pool.map(_louis_chunk, chunks[:procs])       # warm-up: tables loaded in every process
        started = time.perf_counter()
        done = sum(pool.map(_louis_chunk, chunks))
    return done / (time.perf_counter() - started)


def bench_engine(name: str, table: str, lines: list[str], repeat: int) -> float:
    engine = get_engine(name, table)
    engine.translate_lines(lines[:200])             # warm-up (model load, kernels)
    best = 0.0
    chars = sum(len(line) for line in lines)
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(0, len(lines), 8192):
            engine.translate_lines(lines[i:i + 8192])
        _sync()
        best = max(best, chars / (time.perf_counter() - started))
    return best


def bench_checkpoint(path: Path, table: str, lines: list[str], repeat: int,
                     device: str) -> tuple[float, int]:
    """chars/s of the cnn engine with another CNN checkpoint (text in to braille out), and
    its FLOPs a character."""
    import torch

    from braillejobs.translate import checkpoint as ckpt_mod
    from braillejobs.translate.neural import NeuralEngine, Tagger

    ckpt = ckpt_mod.load(path)
    if ckpt.table != table:
        raise SystemExit(f"{path}: a model for {ckpt.table}, not {table}")
    tagger = Tagger(ckpt, torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                       else ("cpu" if device == "auto" else device)))
    engine = NeuralEngine("cnn", table, tagger, None, {})
    engine.translate_lines(lines[:200])
    best = 0.0
    chars = sum(len(line) for line in lines)
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(0, len(lines), 8192):
            engine.translate_lines(lines[i:i + 8192])
        _sync()
        best = max(best, chars / (time.perf_counter() - started))
    return best, ckpt.config.flops_per_char


def bench_cnn_stages(table: str, lines: list[str], repeat: int) -> tuple[dict[str, float], int]:
    """chars/s of each stage of the cnn engine's text-to-braille path, timed apart, and the
    model's FLOPs a character."""
    import numpy as np
    import torch

    from braillejobs.translate.training.labels import AlignmentError, line_keys
    from braillejobs.translate.neural import load_tagger, stream_points
    from braillejobs.translate.vocab import SEPARATOR

    tagger = load_tagger("cnn", table)
    device = tagger.device
    chars = sum(len(line) for line in lines)
    lengths = [len(line) for line in lines]
    known = set(tagger.vocab.chunk_keys)

    def keys(line: str) -> np.ndarray:
        try:
            return line_keys(line, table, known)
        except AlignmentError:            # a line liblouis cannot align: empty chunks will do
            return np.zeros(len(line), dtype=np.int64)

    gold = tagger.vocab.chunk_ids(np.concatenate([keys(line) for line in lines]))
    best = {"code points to the device": 0.0, "model": 0.0, "decoding": 0.0}

    def timed(name: str, fn):
        _sync()
        started = time.perf_counter()
        out = fn()
        _sync()
        best[name] = max(best[name], chars / (time.perf_counter() - started))
        return out

    for _ in range(repeat):
        points = timed("code points to the device", lambda: torch.from_numpy(
            stream_points(lines).view(np.int32).copy()).to(device))
        with torch.inference_mode():
            timed("model", lambda: tagger.tag_ids(tagger.char_table[points], with_conf=False))
        on_line = points[points != ord(SEPARATOR)]
        pred = torch.from_numpy(gold).to(device)
        timed("decoding", lambda: tagger.decoder.decode(pred, on_line, lengths))
    return best, tagger.model.config.flops_per_char


def bench_auto_checks(table: str, lines: list[str], repeat: int) -> dict[str, float]:
    """chars/s of the auto chain's checks on the host, each timed alone on the CNN's tags of the
    text (as if the CNN wrote every word): the indicator check, and the novel-word check, once
    with its remembered words cleared (each new word asks liblouis) and once warm."""
    import numpy as np

    from braillejobs.translate import novel
    from braillejobs.translate.neural import build_engine

    engine = build_engine("auto", table)
    chars = sum(len(line) for line in lines)
    batches = []
    for i in range(0, len(lines), 8192):
        part = lines[i:i + 8192]
        tagged = engine.primary.tag_lines(part)
        offsets = np.r_[0, np.cumsum([len(line) for line in part])]
        batches.append((part, tagged.pred, tagged.points, offsets,
                        np.ones(len(tagged.pred), dtype=bool)))
    best: dict[str, float] = {}

    def timed(name: str, fn) -> None:
        started = time.perf_counter()
        for part, pred, points, offsets, written in batches:
            fn(part, pred, points, offsets, written)
        best[name] = max(best.get(name, 0.0), chars / (time.perf_counter() - started))

    novel._alone.cache_clear()
    timed("novel-word check, cold", engine.novel.check)
    for _ in range(repeat):
        timed("indicator check", lambda part, pred, _p, offsets, written:
              engine.indicators.mismatched(part, pred, offsets, written))
        timed("novel-word check, warm", engine.novel.check)
    return best


def _sync() -> None:
    if "torch" in sys.modules:
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="text file, one line per line translated")
    parser.add_argument("--chars", type=int, default=300_000, help="characters translated")
    parser.add_argument("--table", default="en-ueb-g2.ctb")
    parser.add_argument("--engines", default="cnn,rnn,auto")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--louis-procs", type=int, default=1,
                        help="also run liblouis in this many processes (0: every core)")
    parser.add_argument("--cnn", action="append", default=[], metavar="NAME=CHECKPOINT",
                        help="also time the cnn engine with this CNN checkpoint (repeatable), "
                             "e.g. large=runs/cnn-large-en-ueb-g2.pt")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["BRAILLEJOBS_DEVICE"] = args.device

    lines = load_text(args.data, args.chars)
    chars = sum(len(line) for line in lines)
    results: dict[str, float] = {"liblouis": bench_engine("louis", args.table, lines, args.repeat)}
    procs = args.louis_procs or os.cpu_count() or 1
    if procs > 1:
        results[f"liblouis x{procs} processes"] = bench_louis_parallel(args.table, lines, procs)
    skipped = {}
    for name in [e for e in args.engines.split(",") if e]:
        try:
            results[name] = bench_engine(name, args.table, lines, args.repeat)
        except EngineError as exc:
            skipped[name] = str(exc)
    other_flops: dict[str, int] = {}
    for spec in args.cnn:
        label, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--cnn {spec!r}: give NAME=CHECKPOINT")
        results[f"cnn[{label}]"], other_flops[label] = bench_checkpoint(
            Path(path), args.table, lines, args.repeat, args.device)
    stages: dict[str, float] = {}
    flops = 0
    if "cnn" in results:
        stages, flops = bench_cnn_stages(args.table, lines, args.repeat)
    checks = bench_auto_checks(args.table, lines, args.repeat) if "auto" in results else {}
    base = results["liblouis"]
    parallel = results.get(f"liblouis x{procs} processes")
    report = {"chars": chars, "lines": len(lines), "device": args.device, "table": args.table,
              "chars_per_second": results,
              "ratio_to_liblouis": {k: v / base for k, v in results.items()}}
    if parallel:
        report["ratio_to_liblouis_all_cores"] = {k: v / parallel for k, v in results.items()}
    report["cnn_stages_chars_per_second"] = stages
    report["auto_checks_chars_per_second"] = checks
    if flops:
        report["cnn_flops_per_char"] = flops
        report["cnn_model_tflops_per_second"] = flops * stages["model"] / 1e12
    if other_flops:
        report["other_cnn_flops_per_char"] = other_flops
        if "cnn" in results:
            report["cnn_speed_over_others"] = {k: results["cnn"] / results[f"cnn[{k}]"]
                                               for k in other_flops}
    report["skipped"] = skipped
    if args.json:
        print(json.dumps(report, indent=2))
        return

    def show(label: str, cps: float) -> None:
        line = f"{label:<30} {cps:>14,.0f} chars/s   x{cps / base:6.2f} of liblouis"
        if parallel:
            line += f"   x{cps / parallel:6.2f} of liblouis on {procs} processes"
        print(line)

    print(f"{chars:,} characters in {len(lines):,} lines, table {args.table}, device {args.device}")
    for name, cps in results.items():
        show(f"  {name}", cps)
    if stages:
        print(f"  cnn stages, each timed alone (the model: {flops / 1e6:.1f} MFLOP a character, "
              f"{flops * stages['model'] / 1e12:.3f} TFLOP/s here):")
        for name, cps in stages.items():
            show(f"    {name}", cps)
    if checks:
        print("  auto's checks on the host, each timed alone on the CNN's tags:")
        for name, cps in checks.items():
            show(f"    {name}", cps)
    for label, other in other_flops.items():
        if "cnn" in results:
            print(f"  the shipped cnn ({flops / 1e6:.1f} MFLOP a character) is "
                  f"x{results['cnn'] / results[f'cnn[{label}]']:.2f} the speed of cnn[{label}] "
                  f"({other / 1e6:.1f} MFLOP a character)")
    for name, why in skipped.items():
        print(f"  {name:<28} skipped: {why}")


if __name__ == "__main__":
    main()
