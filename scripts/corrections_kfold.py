"""How far the transcribers' corrections carry to text they were not made for: k-fold over the
UEB rulebook's g2 cases.

The cases are shuffled (a fixed seed) and cut into k folds. For each fold, the cases of the other
k-1 folds that liblouis gets wrong are imported as corrections (as a transcription house would
type them: print in lower case, the braille without capital indicators, punctuation around the
word left out; the usual check refuses braille liblouis cannot read back as the print; one that
would break a case of the same folds that liblouis writes right is left out), the CNN
is fine-tuned with them as the teacher (``train --corrections``), and the held-out fold is
scored against the rulebook for liblouis (without and with the corrections), the CNN (the
shipped one, and the fine-tuned one alone and as the cnn engine that also hands corrected words
to liblouis), and auto. The held-out fold's own cases are never among the corrections. Prose:
the base and the fine-tuned CNN on held-out corpus lines where no correction applies, against
liblouis (the corrections must not cost accuracy elsewhere): the evaluation half of the split,
since the fine-tune is blended back on the tuning half (train --keep-prose).

    python scripts/corrections_kfold.py --corpus corpus --work runs/kfold --folds 5 \\
        --seconds 600 --json runs/kfold/figures.json
    python scripts/corrections_kfold.py --work runs/kfold --taught --json runs/kfold/taught.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from braillejobs.translate.training.taught import NEIGHBOURS  # noqa: E402

TABLE = "en-ueb-g2.ctb"


def candidates(cases: list[dict]) -> tuple[list[tuple[str, str]], dict]:
    """(print, braille) corrections for rulebook cases liblouis gets wrong, and why others
    could not be made."""
    from braillejobs.corrections import CorrectionError, store
    from braillejobs.corrections.learn import _print_word, _uncapitalise
    from braillejobs.translate.louis_engine import translate_with_positions

    made: dict[str, str] = {}
    why = {"mixed capitals": 0, "refused by the check": 0, "conflicting": 0, "too long": 0}
    for case in cases:
        text, expected = case["input"], case["expected"]
        core, braille = text, expected
        # leave out the punctuation around it, whose cells liblouis's position map gives
        word = _print_word(text, 0, *translate_with_positions(TABLE, text))
        pre, post = word.prefix, word.suffix
        if word.core and word.core != text and expected.startswith(pre) and \
                expected.endswith(post) and len(expected) > len(pre) + len(post):
            core = word.core
            braille = expected[len(pre):len(expected) - len(post)]
        braille = _uncapitalise(core, braille)
        if braille is None or not core.strip():
            why["mixed capitals"] += 1
            continue
        key = " ".join(core.lower().split())
        if len(key) > 200 or len(braille) > 400:
            why["too long"] += 1
            continue
        try:
            store.propose(key, braille, table=TABLE)
        except CorrectionError:
            why["refused by the check"] += 1
            continue
        if made.get(key, braille) != braille:
            why["conflicting"] += 1
            continue
        made[key] = braille
    return sorted(made.items()), why


def uncontradicted(made: list[tuple[str, str]], right: list[dict], why: dict
                   ) -> list[tuple[str, str]]:
    """Leave out the corrections that would break a case of the same folds that liblouis
    writes right (a transcriber would see the ruling contradicted there), until none does."""
    from braillejobs.corrections.matching import Matcher
    from braillejobs.corrections.table import table_list, write_table
    from braillejobs.translate.louis_engine import load_louis

    louis = load_louis()
    mode = louis.dotsIO | louis.ucBrl
    work = Path(os.environ["BRAILLEJOBS_DATA_DIR"]) / "check"
    why["contradicted by other cases"] = 0
    while made:
        tables = table_list(TABLE, write_table(made, work))
        matcher = Matcher(p for p, _b in made)
        bad: set[str] = set()
        for case in right:
            spans = matcher.spans(case["input"])
            if spans and louis.translateString(tables, case["input"], mode=mode) \
                    != case["expected"]:
                bad.update(text for _a, _b, text in spans)
        if not bad:
            break
        why["contradicted by other cases"] += len(bad)
        made = [(p, b) for p, b in made if p not in bad]
    return made


def use_database(path: Path) -> None:
    from braillejobs.db import session
    from braillejobs.translate import registry

    os.environ["BRAILLEJOBS_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["BRAILLEJOBS_DATA_DIR"] = str(path.parent / "data")
    session.dispose_all()
    registry.forget()
    session.upgrade(f"sqlite:///{path}")


def agreement(engine, cases: list[dict]) -> float:
    out = engine.translate_lines([c["input"] for c in cases])
    return sum(r.braille == c["expected"] for r, c in zip(out, cases)) / max(1, len(cases))


BLANK = "\u2800"   # the blank cell between braille words


class HeldOut:
    """Held-out corpus lines and liblouis's braille for them. Prose is the share of the lines
    where no correction applies that an engine writes as liblouis does; an engine that is the
    same in every fold (a shipped one, named by ``keep_as``) is scored once for a set of lines."""

    def __init__(self, lines: list[str], louis) -> None:
        self.lines = lines
        self.reference = [louis.translate_text(line) for line in lines]
        self._kept: dict[tuple, float] = {}

    def clean(self, phrases) -> list[int]:
        """Indices of the lines where none of ``phrases`` applies."""
        from braillejobs.corrections.matching import Matcher

        matcher = Matcher(phrases)
        return [i for i, line in enumerate(self.lines) if not matcher.spans(line)]

    def braille(self, engine, clean: list[int], keep_as: str | None = None) -> list[str]:
        """What ``engine`` writes for the lines ``clean``."""
        key = (keep_as, tuple(clean))
        if keep_as is not None and key in self._kept:
            return self._kept[key]
        out = [r.braille for r in engine.translate_lines([self.lines[i] for i in clean])]
        if keep_as is not None:
            self._kept[key] = out
        return out

    def score(self, out: list[str], clean: list[int]) -> float:
        """The share of the lines ``clean`` that ``out`` writes as liblouis does."""
        return sum(o == self.reference[i] for o, i in zip(out, clean)) / max(1, len(clean))

    def prose(self, engine, clean: list[int], keep_as: str | None = None) -> float:
        return self.score(self.braille(engine, clean, keep_as), clean)

    def changes(self, before: list[str], after: list[str], clean: list[int]) -> list[dict]:
        """The lines one engine (``before``) writes as liblouis does and another (``after``)
        does not ("lost"), and the other way round ("gained"), each with its first word that
        differs from liblouis's (``word``: None where the line's words and braille words do
        not pair one to one) and what the engine that got the line wrong wrote for it: what a
        fine-tune forgot or learned on prose."""
        from braillejobs.translate.training.evaluate import first_difference

        rows = []
        for b, a, i in zip(before, after, clean):
            ref = self.reference[i]
            if (b == ref) == (a == ref):
                continue
            kind, wrong = ("lost", a) if b == ref else ("gained", b)
            words = self.lines[i].split()
            cells = [w for w in ref.split(BLANK) if w]
            other = [w for w in wrong.split(BLANK) if w]
            at = first_difference(cells, other)
            same_count = len(words) == len(cells)
            rows.append({"change": kind, "line": self.lines[i],
                         "word": words[at] if same_count and at < len(words) else None,
                         "liblouis": cells[at] if at < len(cells) else "",
                         "written": other[at] if at < len(other) else ""})
        return rows

    def record_changes(self, before: list[str], after: list[str], clean: list[int],
                       path: Path) -> tuple[int, int]:
        """Write the lines lost and gained (``changes``) to ``path``, one JSON object a line;
        how many were lost and gained."""
        rows = self.changes(before, after, clean)
        with path.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(c, ensure_ascii=False) + "\n" for c in rows)
        lost = sum(c["change"] == "lost" for c in rows)
        return lost, len(rows) - lost


def evaluation_lines(path: Path, limit: int) -> list[str]:
    """The evaluation half of the held-out lines (the tuning half chooses the blend of each
    fine-tune), ``limit`` of them spread over it (0: all)."""
    from braillejobs.translate.training.evaluate import halves, load_lines, spread
    from braillejobs.translate.training.train import KEEP_PROSE_LINES

    if not path.exists():
        return []
    return spread(halves(load_lines(path, KEEP_PROSE_LINES))[1], limit)


def shipped_models(init: Path | None):
    """The path and tagger of the CNN the folds start from (``init``, or the shipped g2 CNN),
    the shipped BiLSTM, and the routing thresholds: the CNN's own calibration over the defaults."""
    import torch

    from braillejobs.translate import checkpoint as ckpt_mod
    from braillejobs.translate.neural import DEFAULT_THRESHOLDS, Tagger, model_dir

    init = init or model_dir() / "cnn-en-ueb-g2.pt"
    cnn = Tagger(ckpt_mod.load(init), torch.device("cpu"))
    rnn = Tagger(ckpt_mod.load(model_dir() / "rnn-en-ueb-g2.pt"), torch.device("cpu"))
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(cnn.checkpoint.meta.get("thresholds", {}))
    return init, cnn, rnn, thresholds


SENTENCES = ("{} was the word.", "They said “{}” twice.", "Is it {}?", "({}), they wrote.")


def report_taught(args) -> int:
    """Of each fold's corrections, the share the fine-tuned CNN alone writes as corrected in
    four sentences, against the shipped CNN (what fine-tuning taught); and prose (held-out
    lines where no correction applies, against liblouis) for the CNN alone and for auto with
    the corrections, each shipped and fine-tuned (what the reader of the default neural chain
    gets)."""
    import torch

    from braillejobs.corrections import active
    from braillejobs.translate import checkpoint as ckpt_mod
    from braillejobs.translate.louis_engine import LouisEngine
    from braillejobs.translate.neural import (DEFAULT_THRESHOLDS, NeuralEngine, Tagger,
                                              load_familiar)

    _init, base, rnn, thresholds = shipped_models(args.init)
    familiar = load_familiar(TABLE)
    shipped = NeuralEngine("cnn", TABLE, base, None, DEFAULT_THRESHOLDS)
    heldout = HeldOut(evaluation_lines(args.corpus / "heldout.txt", args.prose_lines),
                      LouisEngine(TABLE))
    rows = []
    for fold_dir in sorted(args.work.glob("fold*")):
        if not (fold_dir / "cnn-en-ueb-g2.pt").exists():
            continue
        use_database(fold_dir / "corrections.db")
        corrections = active.load(TABLE)
        teacher = LouisEngine(TABLE, corrections)
        tuned = NeuralEngine("cnn", TABLE, Tagger(ckpt_mod.load(fold_dir / "cnn-en-ueb-g2.pt"),
                                                  torch.device("cpu")), None,
                             DEFAULT_THRESHOLDS)
        lines = [s.format(p) for p, _b in corrections.braille for s in SENTENCES]
        want = [teacher.translate_text(line) for line in lines]
        row = {"fold": fold_dir.name, "sentences": len(lines)}
        for name, engine in (("cnn (shipped)", shipped), ("cnn fine-tuned, alone", tuned)):
            out = engine.translate_lines(lines)
            row[name] = sum(o.braille == w for o, w in zip(out, want)) / max(1, len(lines))
        if heldout.lines:
            clean = heldout.clean(p for p, _b in corrections.braille)
            row["prose_lines"] = len(clean)
            before = heldout.braille(shipped, clean, keep_as="cnn (shipped)")
            after = heldout.braille(tuned, clean)
            row["prose_lost"], row["prose_gained"] = heldout.record_changes(
                before, after, clean, fold_dir / "prose-changes.jsonl")
            auto_before = heldout.braille(
                NeuralEngine("auto", TABLE, base, rnn, thresholds, corrections, familiar), clean)
            auto_after = heldout.braille(
                NeuralEngine("auto", TABLE, tuned.primary, rnn, thresholds, corrections,
                             familiar), clean)
            row["prose_auto_lost"], row["prose_auto_gained"] = heldout.record_changes(
                auto_before, auto_after, clean, fold_dir / "auto-prose-changes.jsonl")
            row["prose"] = {
                "cnn (shipped)": heldout.score(before, clean),
                "cnn fine-tuned, alone": heldout.score(after, clean),
                "auto (shipped cnn) + corrections": heldout.score(auto_before, clean),
                "auto (fine-tuned cnn) + corrections": heldout.score(auto_after, clean)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--work", type=Path, default=Path("runs/kfold"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init", type=Path, default=None,
                    help="CNN to fine-tune [default: the shipped g2 CNN]")
    ap.add_argument("--seconds", type=float, default=600, help="fine-tuning time per fold")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=512,
                    help="window: the full receptive field (shorter windows cost accuracy)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--share", type=float, default=0.25,
                    help="share of the windows centred on a corrected word (train "
                    "--corrections-share)")
    ap.add_argument("--sample", type=int, default=None,
                    help="corpus characters relabelled with the corrections (train "
                    "--corrections-sample) [default: the whole corpus]")
    ap.add_argument("--negatives", type=int, default=NEIGHBOURS,
                    help="words like each corrected word centred on as often (train "
                    "--corrections-negatives; 0 for none)")
    ap.add_argument("--train-norm", action="store_true",
                    help="re-estimate the normalisation statistics while fine-tuning "
                    "(default: keep the shipped CNN's)")
    ap.add_argument("--tune-top", type=int, default=None, metavar="N",
                    help="learn only the CNN's last N residual blocks and output layer "
                    "(train --tune-top) [default: everything]")
    ap.add_argument("--anchor", type=float, default=None,
                    help="weight of the term that keeps the shipped CNN's predictions where it "
                    "already writes the label (train --anchor) [default: train's, 1]")
    ap.add_argument("--keep-prose", action=argparse.BooleanOptionalAction, default=None,
                    help="blend each fine-tune back toward the shipped CNN until its prose on "
                    "the tuning half holds (train --keep-prose) [default: train's, on]")
    ap.add_argument("--resume", action="store_true",
                    help="go on from each fold's resume file where it matches (a fold whose "
                    "fine-tune has used its seconds is only blended and scored again)")
    ap.add_argument("--prose-lines", type=int, default=0,
                    help="lines of the held-out split's evaluation half scored for prose, "
                    "spread over it [default: all of them]")
    ap.add_argument("--only-fold", type=int, default=None, help="run one fold (0-based)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--taught", action="store_true",
                    help="only report, from the folds' saved models and corrections, how many "
                    "of its own corrections each fine-tuned CNN writes alone, in a sentence, "
                    "and prose for the CNN alone and auto, shipped and fine-tuned; the prose "
                    "lines the fine-tune lost and gained, with the first word that differs "
                    "from liblouis, go to each fold's prose-changes.jsonl (the CNN alone) and "
                    "auto-prose-changes.jsonl (auto with the corrections)")
    args = ap.parse_args()
    if args.taught:
        return report_taught(args)

    import torch

    from braillejobs.corrections import active, store
    from braillejobs.translate.louis_engine import LouisEngine
    from braillejobs.translate.neural import (DEFAULT_THRESHOLDS, NeuralEngine, Tagger,
                                              load_familiar)
    from braillejobs.translate.training import train as trainer
    from braillejobs.translate.training.evaluate import RULEBOOK, load_rulebook

    args.work.mkdir(parents=True, exist_ok=True)
    cases = load_rulebook(RULEBOOK, TABLE)
    random.Random(args.seed).shuffle(cases)
    folds = [cases[i::args.folds] for i in range(args.folds)]
    louis = LouisEngine(TABLE)
    wrong = {id(c) for c in cases if louis.translate_text(c["input"]) != c["expected"]}
    init, base_cnn, rnn, thresholds = shipped_models(args.init)
    familiar = load_familiar(TABLE)       # as auto runs: the familiar rule and the novel check
    heldout = HeldOut(evaluation_lines(args.corpus / "heldout.txt", args.prose_lines), louis)
    results = []
    for f, fold in enumerate(folds):
        if args.only_fold is not None and f != args.only_fold:
            continue
        started = time.monotonic()
        others = [c for g, other in enumerate(folds) if g != f for c in other
                  if id(c) in wrong]
        db = args.work / f"fold{f}" / "corrections.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        use_database(db)
        made, why = candidates(others)
        right = [c for g, other in enumerate(folds) if g != f for c in other
                 if id(c) not in wrong]
        made = uncontradicted(made, right, why)
        store.add_many([store.propose(p, b, table=TABLE, origin="imported") for p, b in made])
        corrections = active.load(TABLE)
        out = args.work / f"fold{f}" / "cnn-en-ueb-g2.pt"
        opts = trainer.TrainOptions(arch="cnn", init=init, corrections=corrections,
                                    corrections_sample=args.sample,
                                    corrections_share=args.share,
                                    corrections_negatives=args.negatives,
                                    max_seconds=args.seconds,
                                    batch=args.batch, length=args.length, lr=args.lr,
                                    device="cpu", resume=args.resume, eval_lines=0,
                                    seed=args.seed, freeze_norm=not args.train_norm,
                                    tune_top=args.tune_top, anchor=args.anchor,
                                    keep_prose=args.keep_prose)
        tuned = Tagger(trainer.train(args.corpus, out, opts), torch.device("cpu"))
        tuned_seconds = time.monotonic() - started
        engines = {
            "liblouis": louis,
            "liblouis + corrections": LouisEngine(TABLE, corrections),
            "cnn (shipped)": NeuralEngine("cnn", TABLE, base_cnn, None, DEFAULT_THRESHOLDS),
            "cnn fine-tuned, alone": NeuralEngine("cnn", TABLE, tuned, None,
                                                  DEFAULT_THRESHOLDS),
            "cnn fine-tuned + corrections": NeuralEngine("cnn", TABLE, tuned, None,
                                                         DEFAULT_THRESHOLDS, corrections),
            "auto (shipped cnn) + corrections": NeuralEngine("auto", TABLE, base_cnn, rnn,
                                                             thresholds, corrections, familiar),
            "auto fine-tuned + corrections": NeuralEngine("auto", TABLE, tuned, rnn, thresholds,
                                                          corrections, familiar),
        }
        row = {"fold": f, "cases": len(fold), "corrections": len(made),
               "failing_cases_offered": len(others), "not_imported": why,
               "fine_tune_seconds": round(tuned_seconds, 1),
               "chars_seen": tuned.checkpoint.meta.get("chars_seen"),
               "anchor": tuned.checkpoint.meta["fine_tuned_from"]["anchor"],
               "kept_prose": tuned.checkpoint.meta["fine_tuned_from"].get("kept_prose"),
               "taught": {k: tuned.checkpoint.meta["corrections"].get(k) for k in
                          ("corrected_words", "negative_words", "negative_starts")},
               "rulebook": {name: agreement(e, fold) for name, e in engines.items()}}
        clean = heldout.clean(p for p, _b in made)
        row["prose_lines"] = len(clean)
        row["prose"] = {"cnn (shipped)": heldout.prose(engines["cnn (shipped)"], clean,
                                                       keep_as="cnn (shipped)"),
                        "cnn fine-tuned, alone": heldout.prose(engines["cnn fine-tuned, alone"],
                                                               clean)}
        results.append(row)
        print(json.dumps(row), flush=True)
    names = list(results[0]["rulebook"]) if results else []
    total = sum(r["cases"] for r in results)
    summary = {"folds": args.folds, "seed": args.seed, "cases": total,
               "seconds_per_fold": args.seconds, "init": str(init),
               "negatives": args.negatives, "tune_top": args.tune_top,
               "anchor": results[0]["anchor"] if results else args.anchor,
               "kept_weights": [(r["kept_prose"] or {}).get("weight") for r in results],
               "share": args.share, "sample": args.sample,
               "rulebook": {n: sum(r["rulebook"][n] * r["cases"] for r in results) / total
                            for n in names} if total else {},
               "prose": {n: sum(r["prose"][n] * r["prose_lines"] for r in results) /
                         max(1, sum(r["prose_lines"] for r in results))
                         for n in (results[0]["prose"] if results else {})},
               "folds_detail": results}
    print(json.dumps({k: v for k, v in summary.items() if k != "folds_detail"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
