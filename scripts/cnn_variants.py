"""Train CNN variants for the same wall-clock budget and print accuracy against MFLOP a character.

    python scripts/cnn_variants.py --corpus corpus --work runs/variants --seconds 600 \\
        --preset cheap --preset cheap-s --preset cheap-plain --preset cpu \\
        [--fortunes fortunes.txt] [--lines 2000] [--json runs/variants/curve.json]

Each preset trains from scratch (or resumes its file in ``--work``, so a longer budget continues
a shorter run) on the labelled corpus, on the CPU unless a GPU is present; then every checkpoint
is scored alone on the same held-out lines (and the fortune set when given): exact lines, cell
error rate, and the exact-line rate of each error class. One line a variant, then the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from braillejobs.translate import checkpoint as ckpt_mod  # noqa: E402
from braillejobs.translate.training import evaluate as ev  # noqa: E402
from braillejobs.translate.training import train as trainer  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--preset", action="append", required=True)
    p.add_argument("--seconds", type=float, default=600.0, help="Training budget a variant.")
    p.add_argument("--table", default="en-ueb-g2.ctb")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lines", type=int, default=2000, help="Held-out lines scored.")
    p.add_argument("--fortunes", type=Path)
    p.add_argument("--json", type=Path)
    p.add_argument("--score-only", action="store_true", help="Score the existing files only.")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    heldout = ev.load_lines(args.corpus / "heldout.txt", args.lines)
    fortunes = ev.load_lines(args.fortunes) if args.fortunes else None
    rows = []
    for preset in args.preset:
        out = args.work / f"cnn-{preset}.pt"
        if not args.score_only:
            opts = trainer.TrainOptions(arch="cnn", preset=preset, table=args.table,
                                        steps=10**9, max_seconds=args.seconds, batch=args.batch,
                                        eval_lines=0, resume=True)
            started = time.monotonic()
            trainer.train(args.corpus, out, opts)
            print(f"# {preset}: trained {time.monotonic() - started:.0f}s", file=sys.stderr)
        ckpt = ckpt_mod.load(out)
        row = {"preset": preset, "mflop_per_char": ckpt.config.flops_per_char / 1e6,
               "parameters": ckpt.meta.get("parameters"), "train_seconds": ckpt.meta.get(
                   "train_seconds"), "chars_seen": ckpt.meta.get("chars_seen"),
               "heldout": _score(out, heldout)}
        if fortunes:
            row["fortunes"] = _score(out, fortunes)
        rows.append(row)
        f = row.get("fortunes", {})
        print(f"{preset:12} {row['mflop_per_char']:6.2f} MFLOP/char  "
              f"{row['chars_seen'] / 1e6:7.1f} M chars in {row['train_seconds']:.0f}s  "
              f"held-out exact {row['heldout']['exact_lines']:.4f} "
              f"cer {row['heldout']['cell_error_rate']:.5f}  "
              f"fortunes exact {f.get('exact_lines', float('nan')):.4f}", flush=True)
    text = json.dumps(rows, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


def _score(path: Path, lines: list[str]) -> dict:
    import torch

    from braillejobs.translate.neural import DEFAULT_THRESHOLDS, NeuralEngine, Tagger

    ckpt = ckpt_mod.load(path)
    tagger = Tagger(ckpt, torch.device("cpu"))
    engine = NeuralEngine("cnn", ckpt.table, tagger, None, DEFAULT_THRESHOLDS)
    figures = ev.evaluate(engine, lines)
    return {k: figures[k] for k in ("lines", "exact_lines", "cell_error_rate", "by_class",
                                    "chars_per_second")}


if __name__ == "__main__":
    main()
