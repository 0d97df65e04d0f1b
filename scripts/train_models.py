"""Produce the shipped models: label, train CNN and BiLSTM per table, calibrate, evaluate.

    python scripts/train_models.py --corpus corpus --out runs/release \
        --table en-ueb-g2.ctb:large:base:200:100 --table en-ueb-g1.ctb:cpu:cpu:50:30

Each ``--table`` is TABLE:CNN_PRESET:RNN_PRESET:CNN_SECONDS:RNN_SECONDS. ``--finish
TABLE:CNN_FILE:RNN_FILE`` trains nothing: it calibrates, evaluates and writes the checkpoints and
card of models made elsewhere (a CNN fine-tuned with ``braillejobs train --init``). Work runs in the order
given, and ``--deadline`` (seconds from start) shrinks or skips later stages so that the whole
run ends in time; every finished checkpoint is copied to ``--out`` at once, so an interrupted run
still leaves what it finished. Needs only numpy, torch, rapidfuzz and liblouis (no database or
broker), so it runs on a bare GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from braillejobs.translate import checkpoint as ckpt_mod  # noqa: E402
from braillejobs.translate.familiar import Familiar, path_for  # noqa: E402
from braillejobs.translate.training.familiar_set import build as build_familiar  # noqa: E402
from braillejobs.translate.training.corpus import read_lines  # noqa: E402
from braillejobs.translate.training import evaluate as ev  # noqa: E402
from braillejobs.translate.training import train as trainer  # noqa: E402
from braillejobs.translate.neural import DEFAULT_THRESHOLDS, NeuralEngine, Tagger  # noqa: E402

START = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - START:7.1f}s] {msg}", flush=True)


def remaining(deadline: float) -> float:
    return deadline - (time.monotonic() - START)


def progress(event: dict) -> None:
    if event["phase"] == "train" and event["step"] % 500 == 0:
        log(f"  step {event['step']} loss {event['loss']:.4f} "
            f"{event['chars_seen'] / max(event['seconds'], 1e-9):,.0f} chars/s")


def finish(args: argparse.Namespace, device: str, table: str, paths: dict, card: dict) -> None:
    """Calibrate the auto thresholds, evaluate, and write the checkpoints and the model card."""
    stem = table.removesuffix(".ctb")
    # the held-out lines, spread over the file, in two halves: the thresholds are chosen on
    # one and every figure is measured on the other
    spread = ev.load_lines(args.corpus / "heldout.txt", 2 * args.eval_lines)
    tune, lines = ev.halves(spread)
    cnn = Tagger(ckpt_mod.load(paths["cnn"]), torch.device(device))
    engines = {"cnn": NeuralEngine("cnn", table, cnn, None, DEFAULT_THRESHOLDS)}
    if "rnn" in paths:
        rnn = Tagger(ckpt_mod.load(paths["rnn"]), torch.device(device))
        engines["rnn"] = NeuralEngine("rnn", table, rnn, None, DEFAULT_THRESHOLDS)
        calib = ev.calibrate(cnn, rnn, tune, rnn_grid=ev.RNN_GRID, agree_grid=ev.AGREE_GRID,
                              agree_cnn_grid=ev.AGREE_CNN_GRID)
        log(f"calibration on {len(tune)} lines: {json.dumps(calib['chosen'])}")
        for point in calib["curve"]:
            log(f"  t={point['threshold']:<6} rnn t={point['rnn_threshold']:<6} "
                f"agree t={point['agree_threshold']:<6} cnn floor {point['agree_cnn_floor']:<5} "
                f"exact {point['exact_lines']:.4f} "
                f"cer {point['cell_error_rate']:.5f} cnn {point['cnn']:.4f} "
                f"rnn {point['rnn']:.4f} louis {point['louis']:.4f}")
        # the training corpus's tokens with liblouis's braille for them, and the CNN's floor
        # on keeping a word it writes as it was taught
        hashes, skipped = build_familiar(read_lines(args.corpus / "train.txt"), table,
                                         workers=None)
        familiar = Familiar(hashes)
        np.save(args.out / path_for(table).name, familiar.hashes)
        fam = ev.calibrate_familiar(cnn, rnn, tune, calib["chosen"], familiar)
        calib["chosen"]["familiar"] = fam["chosen"]
        calib["familiar_curve"] = fam["curve"]
        log(f"familiar words: {len(familiar):,} distinct (token, capitals role, braille) "
            f"hashes ({skipped} lines skipped); floor {fam['chosen']}: "
            f"{json.dumps(fam['curve'])}")
        card["calibration"] = calib
        engines["auto"] = NeuralEngine("auto", table, cnn, rnn, calib["chosen"],
                                       familiar=familiar)
        card["routing"] = ev.routing_report(engines["auto"], lines)
        log(f"routing on {len(lines)} other lines: {json.dumps(card['routing'])}")
    card["heldout"] = {}
    fortunes = ev.load_lines(args.fortunes) if args.fortunes else None
    for name, engine in engines.items():
        figures = ev.evaluate(engine, lines)
        card["heldout"][name] = figures
        log(f"held-out {name}: exact {figures['exact_lines']:.4f} "
            f"cer {figures['cell_error_rate']:.5f} share {figures['share']} "
            f"by class {json.dumps(figures['by_class'])}")
        if fortunes:
            f = ev.evaluate(engine, fortunes)
            card.setdefault("fortunes", {})[name] = f
            log(f"fortunes {name}: exact {f['exact_lines']:.4f} "
                f"cer {f['cell_error_rate']:.5f} share {f['share']} "
                f"by class {json.dumps(f['by_class'])}")
        if args.rulebook and args.rulebook.exists():
            rb = ev.evaluate_rulebook(engine, args.rulebook)
            card.setdefault("rulebook", {})[name] = rb
            log(f"rulebook {name}: agrees with liblouis {rb['agrees_with_liblouis']:.4f}, "
                f"matches rulebook {rb['matches_rulebook']:.4f}")
    # the CNN checkpoint carries the chosen thresholds and the figures
    final = ckpt_mod.load(paths["cnn"])
    meta = dict(final.meta)
    if "calibration" in card:
        meta["thresholds"] = card["calibration"]["chosen"]
        meta["calibration"] = card["calibration"]
    meta["heldout"] = card["heldout"]
    ckpt_mod.save(args.out / f"cnn-{stem}.pt", final.build_model("cpu"), final.vocab, table,
                  meta)
    if "rnn" in paths:
        rfinal = ckpt_mod.load(paths["rnn"])
        rmeta = dict(rfinal.meta, heldout=card["heldout"].get("rnn"))
        ckpt_mod.save(args.out / f"rnn-{stem}.pt", rfinal.build_model("cpu"), rfinal.vocab,
                      table, rmeta)
    (args.out / f"model-card-{stem}.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"wrote {table} models and card to {args.out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path("runs/work"))
    p.add_argument("--table", action="append", default=[])
    p.add_argument("--finish", action="append", default=[],
                   help="TABLE:CNN_FILE:RNN_FILE: calibrate, evaluate and write trained models")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--length", type=int, default=512)
    p.add_argument("--device", default="auto")
    p.add_argument("--deadline", type=float, default=1e9)
    p.add_argument("--eval-lines", type=int, default=4000)
    p.add_argument("--rulebook", type=Path)
    p.add_argument("--fortunes", type=Path,
                   help="Also score the engines on this independent set (scripts/fortunes_eval_set.py).")
    args = p.parse_args()
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else \
        ("cpu" if args.device == "auto" else args.device)
    os.environ["BRAILLEJOBS_DEVICE"] = device
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    log(f"device {device} ({torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu'}), "
        f"torch {torch.__version__}, {os.cpu_count()} cpus")

    for spec in args.finish:
        table, cnn_file, rnn_file = spec.split(":")
        paths = {"cnn": Path(cnn_file), "rnn": Path(rnn_file)}
        card = {"table": table, "models": {}}
        for arch, path in paths.items():
            meta = ckpt_mod.load(path).meta
            card["models"][arch] = {k: meta.get(k) for k in (
                "preset", "steps", "chars_seen", "train_seconds", "device", "parameters", "batch",
                "length", "precision", "fine_tuned_from", "focus", "labels")}
        log(f"finish {table}: {json.dumps(card['models'])}")
        finish(args, device, table, paths, card)

    for spec in args.table:
        table, cnn_preset, rnn_preset, cnn_s, rnn_s = spec.split(":")
        stem = table.removesuffix(".ctb")
        if remaining(args.deadline) < 60:
            log(f"skip {table}: {remaining(args.deadline):.0f}s left")
            continue
        labelled = trainer.label_corpus(args.corpus, table, workers=os.cpu_count())
        log(f"labelled {table}: {json.dumps(labelled.stats)}")
        card = {"table": table, "labels": labelled.stats, "models": {}}
        paths = {}
        for arch, preset, seconds in (("cnn", cnn_preset, float(cnn_s)), ("rnn", rnn_preset, float(rnn_s))):
            budget = min(seconds, remaining(args.deadline) - 45)
            if budget < min(15.0, seconds):
                log(f"skip {arch} {table}: no time left")
                continue
            work = args.work / f"{arch}-{stem}.pt"
            opts = trainer.TrainOptions(arch=arch, preset=preset, table=table, max_seconds=budget,
                                        batch=args.batch, length=args.length, device=device,
                                        resume=False, eval_lines=0)
            log(f"train {arch}/{preset} on {table} for {budget:.0f}s")
            ckpt = trainer.train(args.corpus, work, opts, progress)
            log(f"  done: {ckpt.meta['steps']} steps, {ckpt.meta['chars_seen']:,} chars seen, "
                f"{ckpt.meta['parameters']:,} parameters")
            paths[arch] = work
            card["models"][arch] = {k: ckpt.meta[k] for k in ("preset", "steps", "chars_seen",
                                    "train_seconds", "device", "parameters", "batch", "length")}
            shutil.copy(work, args.out / work.name)
        if "cnn" in paths:
            finish(args, device, table, paths, card)



if __name__ == "__main__":
    main()
