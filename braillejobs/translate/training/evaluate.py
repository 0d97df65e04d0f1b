"""Measuring the engines against liblouis and against the UEB rulebook.

Figures: exact-line rate, cell error rate (edit distance over reference cells), share of input
characters produced by each engine, and characters per second. ``calibrate`` sweeps the auto
chain's thresholds and reports the curve of accuracy against the share sent to each fallback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from ..engine import Engine, LineTranslation, count_engines
from ..louis_engine import LouisEngine, align
from .corpus import read_lines

# The UEB rulebook's examples (from liblouis's test suite), kept beside a checkout of the
# repository, not in the package: the default data of `braillejobs evaluate` and of the tests.
RULEBOOK = Path(__file__).resolve().parents[4] / "shared" / "data" / "ueb-rulebook-specs.jsonl"


def score(hyps: Sequence[str], refs: Sequence[str]) -> dict:
    exact = sum(h == r for h, r in zip(hyps, refs))
    edits = sum(Levenshtein.distance(h, r) for h, r in zip(hyps, refs))
    cells = sum(len(r) for r in refs)
    return {
        "lines": len(refs),
        "exact_lines": exact / len(refs) if refs else 0.0,
        "cell_error_rate": edits / cells if cells else 0.0,
        "reference_cells": cells,
    }


TYPOGRAPHIC = frozenset("\u2018\u2019\u201c\u201d")
LINE_CLASSES = ("typographic punctuation", "capital passage", "digits", "non-ASCII")


def has_capital_passage(line: str) -> bool:
    """Whether ``line`` holds three or more consecutive capitalised words (words without
    letters between them do not count and do not break the run), as UEB's passages do."""
    run = 0
    for word in line.split():
        upper = any(c.isupper() for c in word)
        lower = any(c.islower() for c in word)
        if not (upper or lower):
            continue
        run = run + 1 if upper and not lower else 0
        if run >= 3:
            return True
    return False


def line_classes(line: str) -> list[str]:
    """The error classes a line belongs to (it may be in several or none)."""
    out = []
    if TYPOGRAPHIC & set(line):
        out.append("typographic punctuation")
    if has_capital_passage(line):
        out.append("capital passage")
    if any(c.isdigit() for c in line):
        out.append("digits")
    if not line.isascii():
        out.append("non-ASCII")
    return out


# Complements reported beside the classes: the lines in none of them, and the lines without
# typographic punctuation (comparable with a split from before the corpus had typographic quotes).
NO_CLASS, NO_TYPOGRAPHIC = "none of the classes", "no typographic punctuation"


def by_class(lines: Sequence[str], hyps: Sequence[str], refs: Sequence[str]) -> dict:
    """Exact-line rate over the lines of each class (and of the two complements)."""
    counts = {c: [0, 0] for c in (*LINE_CLASSES, NO_CLASS, NO_TYPOGRAPHIC)}
    for line, h, r in zip(lines, hyps, refs):
        classes = line_classes(line)
        if not classes:
            classes.append(NO_CLASS)
        if "typographic punctuation" not in classes:
            classes.append(NO_TYPOGRAPHIC)
        for c in classes:
            counts[c][0] += 1
            counts[c][1] += h == r
    return {c: {"lines": n, "exact_lines": (ok / n if n else None)}
            for c, (n, ok) in counts.items()}


def shares(results: Sequence[LineTranslation]) -> dict:
    total = count_engines(results)
    n = sum(total.values())
    return {k: v / n for k, v in sorted(total.items())} if n else {}


def run_engine(engine: Engine, lines: Sequence[str], batch: int = 4096
               ) -> tuple[list[LineTranslation], float]:
    """Translate in batches; return the results and the wall-clock seconds."""
    started = time.perf_counter()
    out: list[LineTranslation] = []
    for i in range(0, len(lines), batch):
        out.extend(engine.translate_lines(lines[i:i + batch]))
    return out, time.perf_counter() - started


def first_difference(a: Sequence, b: Sequence) -> int:
    """Where two sequences (of cells, of words) first part: the shorter's length where one
    begins the other."""
    return next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def differences(lines: Sequence[str], hyps: Sequence[str], refs: Sequence[str],
                results: Sequence[LineTranslation] | None = None,
                louis: Sequence[str] | None = None) -> list[dict]:
    """One record for each line written otherwise than its reference: its number (from 1), the
    text, both brailles, the cell where they first part with a few cells either side, its error
    classes, and (where given) the characters each engine wrote and liblouis's braille."""
    out = []
    for i, (line, h, r) in enumerate(zip(lines, hyps, refs)):
        if h == r:
            continue
        at = first_difference(h, r)
        rec = {"line": i + 1, "text": line, "reference": r, "output": h,
               "first_difference": {"cell": at, "reference": r[max(0, at - 8):at + 8],
                                    "output": h[max(0, at - 8):at + 8]},
               "classes": line_classes(line)}
        if results is not None:
            rec["engines"] = dict(sorted(results[i].chars_by_engine.items()))
        if louis is not None:
            rec["liblouis"] = louis[i]
        out.append(rec)
    return out


def evaluate(engine: Engine, lines: Sequence[str], refs: Sequence[str] | None = None,
             wrong: list | None = None) -> dict:
    """Figures of ``engine`` on ``lines``; references default to liblouis's output. Given a list
    as ``wrong``, the lines written otherwise than their reference are added to it
    (``differences``)."""
    if refs is None:
        louis = LouisEngine(engine.table)
        refs = [louis.translate_text(line) for line in lines]
    results, seconds = run_engine(engine, lines)
    chars = sum(len(line) for line in lines)
    hyps = [r.braille for r in results]
    if wrong is not None:
        wrong.extend(differences(lines, hyps, refs, results))
    figures = score(hyps, refs)
    figures["by_class"] = by_class(lines, hyps, refs)
    figures.update({"engine": engine.name, "table": engine.table, "chars": chars,
                    "seconds": round(seconds, 3), "chars_per_second": chars / seconds if seconds else 0.0,
                    "share": shares(results)})
    return figures


def load_lines(path: Path, limit: int | None = None) -> list[str]:
    """The lines of ``path``; with ``limit``, that many spread evenly over the whole file (its
    sources follow one another, so the first lines alone would be one source)."""
    return spread(list(read_lines(path)), limit)


def spread(lines: list[str], limit: int | None) -> list[str]:
    """``limit`` of ``lines`` taken evenly over them (all of them when 0, None or enough)."""
    if limit and len(lines) > limit:
        step = len(lines) / limit
        lines = [lines[int(i * step)] for i in range(limit)]
    return lines


def halves(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """The tuning half (even lines) and the evaluation half (odd lines) of held-out lines: what
    chooses a setting is never what reports it."""
    return list(lines[0::2]), list(lines[1::2])


class RulebookError(ValueError):
    """A rulebook file line that is not a case; the message names the file, the line and the
    form expected."""


def load_rulebook(path: Path, table: str) -> list[dict]:
    """The one-line cases of ``table`` in a rulebook .jsonl file (one JSON object a line with
    ``input``, ``expected`` and ``table``)."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = exc.msg
        else:
            if not isinstance(case, dict):
                reason = "not a JSON object"
            elif not all(isinstance(case.get(k), str) for k in ("input", "expected", "table")):
                reason = "input, expected and table must all be strings"
            else:
                cases.append(case)
                continue
        raise RulebookError(f"{path}, line {number}: not a rulebook case ({reason}); each line "
                            'must be a JSON object such as {"input": "the", "expected": "⠮", '
                            '"table": "en-ueb-g2.ctb"}')
    return [c for c in cases if c["table"] == table and "\n" not in c["input"]]


def evaluate_rulebook(engine: Engine, path: Path, wrong: list | None = None) -> dict:
    """Agreement with liblouis's output and with the rulebook's expected braille. Given a list as
    ``wrong``, the cases written otherwise than the rulebook are added to it (``differences``,
    with liblouis's braille beside them)."""
    cases = load_rulebook(path, engine.table)
    if not cases:
        raise RulebookError(f"{path} holds no one-line case for {engine.table}: nothing to score; "
                            "give a rulebook file with cases of that table, or choose --table")
    lines = [c["input"] for c in cases]
    louis = LouisEngine(engine.table)
    louis_out = [louis.translate_text(line) for line in lines]
    expected = [c["expected"] for c in cases]
    results, seconds = run_engine(engine, lines)
    hyps = [r.braille for r in results]
    if wrong is not None:
        wrong.extend(differences(lines, hyps, expected, results, louis_out))
    vs_louis = score(hyps, louis_out)
    vs_rules = score(hyps, expected)
    return {"engine": engine.name, "table": engine.table, "cases": len(cases),
            "agrees_with_liblouis": vs_louis["exact_lines"],
            "matches_rulebook": vs_rules["exact_lines"],
            "liblouis_matches_rulebook": score(louis_out, expected)["exact_lines"],
            "share": shares(results), "seconds": round(seconds, 3)}


def evaluate_checkpoint_file(path: Path, heldout: Path, limit: int, device: str = "cpu") -> dict:
    """Figures of one checkpoint alone on the first ``limit`` held-out lines."""
    import torch

    from .. import checkpoint as ckpt_mod
    from ..neural import DEFAULT_THRESHOLDS, NeuralEngine, Tagger

    ckpt = ckpt_mod.load(path)
    tagger = Tagger(ckpt, torch.device(device))
    engine = NeuralEngine(ckpt.arch, ckpt.table, tagger, None, DEFAULT_THRESHOLDS)
    figures = evaluate(engine, load_lines(heldout, limit))
    figures.pop("share", None)
    return figures


def drift_from_start(start: Path, tuned: Path, heldout: Path, limit: int, matcher=None,
                     device: str = "cpu") -> dict:
    """A fine-tune against the model it started from, each alone on the same held-out lines:
    the share of lines each writes as liblouis does. With the corrections' ``matcher``, only the
    lines where no correction applies (there the two should differ from liblouis on purpose)."""
    import torch

    from .. import checkpoint as ckpt_mod

    lines = load_lines(heldout, limit)
    if matcher is not None:
        lines = [line for line in lines if not matcher.spans(line)]
    ckpts = {"start": ckpt_mod.load(start), "tuned": ckpt_mod.load(tuned)}
    louis = LouisEngine(ckpts["tuned"].table)
    refs = [louis.translate_text(line) for line in lines]
    exact = {name: exact_share(ckpt, lines, refs, torch.device(device)) if lines else None
             for name, ckpt in ckpts.items()}
    return {"lines": len(lines), "outside_corrections": matcher is not None, **exact}


def exact_share(ckpt, lines: Sequence[str], refs: Sequence[str], device) -> float:
    """The share of ``lines`` the checkpoint's model alone writes as ``refs``."""
    from ..neural import DEFAULT_THRESHOLDS, NeuralEngine, Tagger

    engine = NeuralEngine(ckpt.arch, ckpt.table, Tagger(ckpt, device), None, DEFAULT_THRESHOLDS)
    out = engine.translate_lines(list(lines))
    return sum(o.braille == r for o, r in zip(out, refs)) / max(1, len(refs))


DEFAULT_GRID = (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999)
RNN_GRID = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.01)   # 1.01: never settles
AGREE_GRID = (0.0, 0.3, 0.5, 0.7, 0.9, 1.01)    # 1.01: no word settled by agreement alone
AGREE_CNN_GRID = (0.0, 0.9, 0.95, 0.98, 0.99)   # the CNN's floor on a word settled by agreement


def calibrate(cnn, rnn, lines: Sequence[str], *, grid: Sequence[float] = DEFAULT_GRID,
              rnn_grid: Sequence[float] | None = None,
              agree_grid: Sequence[float] = (1.01,),
              agree_cnn_grid: Sequence[float] = (0.0,),
              min_neural_share: float = 0.97) -> dict:
    """Sweep the CNN's threshold and, for each, the BiLSTM's (``rnn_grid``; without it, the
    same value for both), its threshold when it agrees with the CNN (``agree_grid``: only
    values below the BiLSTM's own, where agreeing adds something) and, where agreement is on,
    the CNN's floor on the words it settles (``agree_cnn_grid``); choose with :func:`choose`.
    The taggers run once; every point only routes, decodes and splices again."""
    from ..neural import NeuralEngine

    louis = LouisEngine(cnn.checkpoint.table)
    refs = [louis.translate_text(line) for line in lines]
    curve = []
    cnn, rnn = _Remembering(cnn), _Remembering(rnn)
    for t in grid:
        for tr in (rnn_grid if rnn_grid is not None else (t,)):
            agreements = [(a, f) for a in sorted({min(a, 1.01) for a in agree_grid if a < tr})
                          if a < 1.01 for f in sorted(set(agree_cnn_grid))] + [(1.01, 0.0)]
            for ta, fa in agreements:
                engine = NeuralEngine("auto", cnn.checkpoint.table, cnn, rnn,
                                      {"cnn": t, "rnn": tr, "agree": ta, "agree_cnn": fa})
                curve.append({"threshold": t, "rnn_threshold": tr, "agree_threshold": ta,
                              "agree_cnn_floor": fa, **_sweep_point(engine, lines, refs)})
    return {"curve": curve, "chosen": choose(curve, min_neural_share),
            "min_neural_share": min_neural_share, "lines": len(lines)}


def _sweep_point(engine, lines: Sequence[str], refs: Sequence[str]) -> dict:
    """One point of a threshold sweep: exact lines, cell error rate and each engine's share."""
    results, _seconds = run_engine(engine, lines)
    s = score([r.braille for r in results], refs)
    share = shares(results)
    return {"exact_lines": s["exact_lines"], "cell_error_rate": s["cell_error_rate"],
            "cnn": share.get("cnn", 0.0), "rnn": share.get("rnn", 0.0),
            "louis": share.get("louis", 0.0)}


# the CNN's floor on words it wrote as liblouis wrote them in training (1.01: the rule off)
FAMILIAR_GRID = (1.01, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5)


def calibrate_familiar(cnn, rnn, lines: Sequence[str], chosen: dict, familiar,
                       grid: Sequence[float] = FAMILIAR_GRID) -> dict:
    """At the ``chosen`` thresholds, sweep the ``familiar`` floor (1.01: the rule off) and choose
    the most accurate point, then the one leaving liblouis least, then the more careful floor."""
    from ..neural import NeuralEngine

    louis = LouisEngine(cnn.checkpoint.table)
    refs = [louis.translate_text(line) for line in lines]
    cnn, rnn = _Remembering(cnn), _Remembering(rnn)
    curve = []
    for floor in grid:
        engine = NeuralEngine("auto", cnn.checkpoint.table, cnn, rnn,
                              {**chosen, "familiar": floor}, familiar=familiar)
        curve.append({"familiar": floor, **_sweep_point(engine, lines, refs)})
    best = max(curve, key=lambda p: (p["exact_lines"], -p["cell_error_rate"], -p["louis"],
                                     p["familiar"]))
    return {"curve": curve, "chosen": best["familiar"], "lines": len(lines)}


class _Remembering:
    """A tagger that tags the same lines only once: every point of a sweep reads them again, and
    the tags do not depend on the thresholds."""

    def __init__(self, tagger):
        self._tagger = tagger
        self._seen: dict[tuple[str, ...], object] = {}

    def __getattr__(self, name: str):
        return getattr(self._tagger, name)

    def tag_lines(self, lines: Sequence[str]):
        key = tuple(lines)
        if key not in self._seen:
            self._seen[key] = self._tagger.tag_lines(lines)
        return self._seen[key]


def choose(curve: Sequence[dict], min_neural_share: float = 0.97) -> dict:
    """The most accurate point of the curve that keeps ``min_neural_share`` of characters on the
    neural engines. Points equally accurate on the sample cannot be told apart by it: the tie
    goes first to the higher (more careful) CNN threshold, since the CNN writes nearly all the
    text and a wrong cell reaches a reader; then to the point that sends least to liblouis (the
    BiLSTM settling what it can without losing a line of the sample); then to the higher BiLSTM
    thresholds (its own, then when agreeing), then to the higher CNN floor on agreement."""
    eligible = [p for p in curve if p["cnn"] + p["rnn"] >= min_neural_share] or list(curve[:1])
    best = max(eligible, key=lambda p: (p["exact_lines"], -p["cell_error_rate"], p["threshold"],
                                        -p["louis"], p.get("rnn_threshold", p["threshold"]),
                                        p.get("agree_threshold", 1.01),
                                        p.get("agree_cnn_floor", 0.0)))
    return {"cnn": best["threshold"], "rnn": best.get("rnn_threshold", best["threshold"]),
            "agree": best.get("agree_threshold", 1.01),
            "agree_cnn": best.get("agree_cnn_floor", 0.0)}


FLOOR_GRID = (0.0, 0.5, 0.9)   # least-sure-character floors the routing report tabulates


def routing_report(engine, lines: Sequence[str], batch: int = 4096) -> dict:
    """What the auto chain's fallback does on ``lines``: words the CNN handed to the BiLSTM (and
    how many of them the CNN itself, and the BiLSTM's own answer, wrote as liblouis does), words
    the BiLSTM settled (of them, by agreeing with the CNN), and how many of those it wrote as
    liblouis does (per word, the joined chunks of its characters against liblouis's), with the
    share of characters each engine wrote.

    ``agreement_floors``: of the handed words the BiLSTM writes exactly as the CNN did, how many
    have both models' least sure character at or above each pair of floors, and how many of those
    the CNN (so both) wrote otherwise than liblouis: what an agreement rule with floors would
    settle, and at what cost. ``apart_rnn_sure``: the handed words on which the two disagree and
    the BiLSTM is sure (every character at least 0.9), and which of them each had right.
    ``kept_as_familiar``: handed words neither settled that the CNN kept because it wrote them
    as liblouis wrote the same token in training, and ``familiar_right`` how many of them it
    wrote as liblouis does here.
    ``indicator_to_louis``: words a model wrote that the indicator check sent to liblouis
    (:mod:`..indicators`); a handed word the BiLSTM had settled and the check then sent on
    counts there, not as settled. ``novel_asked``: words a model wrote whole that the familiar
    set did not vouch for, so the novel-word check asked liblouis (:mod:`..novel`), and
    ``novel_to_louis`` those it sent to liblouis (a handed word the BiLSTM had settled and the
    check then sent on counts there, not as settled). ``roles_to_louis``: words whose capitals
    role hangs on letters outside ASCII (``capitals.uncertain_roles``), sent to liblouis."""
    from ..neural import _segments

    words = handed = settled = right = agreed = cnn_right = rnn_right = sent_on = 0
    familiar = familiar_right = novel_asked = novel_sent = roles_sent = 0
    per_word: list[tuple[float, float, bool, bool, bool]] = []   # handed words, see below
    chars = np.zeros(3, dtype=np.int64)
    vocab = engine.primary.vocab
    for i in range(0, len(lines), batch):
        part = list(lines[i:i + batch])
        r = engine.route(part)
        chars += np.bincount(r.engine, minlength=3)
        starts, seg_len = _segments(r.ids, r.lengths, engine.space_id)
        is_word = r.ids[starts] != engine.space_id
        starts, seg_len = starts[is_word], seg_len[is_word]
        words += len(starts)
        given = r.handed[starts]
        handed += int(given.sum())
        sent_on += int(r.indicator_to_louis[starts].sum())
        novel_asked += int(r.novel_asked[starts].sum())
        novel_sent += int(r.novel_to_louis[starts].sum())
        roles_sent += int(r.roles_to_louis[starts].sum())
        done = given & (r.engine[starts] == 1)
        settled += int(done.sum())
        agreed += int((done & r.agreed[starts]).sum())
        line_of = np.searchsorted(r.offsets, starts, side="right") - 1
        refs: dict[int, list[str]] = {}
        for s, n, k, d in zip(starts[given], seg_len[given], line_of[given], done[given]):
            if k not in refs:
                refs[k] = align(part[k], engine.table)[1]
            a = s - r.offsets[k]
            ref = "".join(refs[k][a:a + n])

            def writes(ids: np.ndarray) -> bool:   # this word, in these chunk ids, as liblouis
                return "".join(vocab.chunks(ids[s:s + n], r.points[s:s + n])) == ref

            asked = bool((r.second[s:s + n] >= 0).all())
            word = (float(r.first_conf[s:s + n].min()), float(r.second_conf[s:s + n].min()),
                    asked and bool((r.second[s:s + n] == r.first[s:s + n]).all()),
                    writes(r.first), asked and writes(r.second))
            per_word.append(word)
            cnn_right += word[3]
            rnn_right += word[4]
            if d:
                right += writes(r.pred)
            if r.familiar[s]:
                familiar += 1
                familiar_right += writes(r.pred)
    total = int(chars.sum())
    cols = np.array(per_word, dtype=np.float64).reshape(-1, 5)
    cnn_conf, rnn_conf = cols[:, 0], cols[:, 1]
    same, cnn_ok, rnn_ok = (cols[:, 2:] > 0).T
    floors = []
    for cf in FLOOR_GRID:
        for rf in FLOOR_GRID:
            take = same & (cnn_conf >= cf) & (rnn_conf >= rf)
            floors.append({"cnn_floor": cf, "rnn_floor": rf, "settled": int(take.sum()),
                           "wrong": int((take & ~cnn_ok).sum())})
    sure_apart = ~same & (rnn_conf >= 0.9)
    return {"words": words, "handed_to_rnn": handed, "handed_cnn_right": cnn_right,
            "handed_rnn_right": rnn_right,
            "settled_by_rnn": settled, "settled_by_agreement": agreed,
            "settled_right": right,
            "settled_share": settled / handed if handed else None,
            "right_share_of_settled": right / settled if settled else None,
            "right_share_of_handed": right / handed if handed else None,
            "agreement_floors": floors,
            "apart_rnn_sure": {"words": int(sure_apart.sum()),
                               "rnn_right": int((sure_apart & rnn_ok).sum()),
                               "cnn_right": int((sure_apart & cnn_ok).sum())},
            "kept_as_familiar": familiar, "familiar_right": familiar_right,
            "indicator_to_louis": sent_on,
            "novel_asked": novel_asked, "novel_to_louis": novel_sent,
            "roles_to_louis": roles_sent,
            "share": {name: int(c) / total if total else 0.0
                      for name, c in zip(("cnn", "rnn", "louis"), chars.tolist())}}
