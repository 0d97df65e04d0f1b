"""Commands of the neural translator: ``corpus build``, ``train`` and ``evaluate``.

Registered by cli/root.py. Torch and the model modules are imported inside the commands, so the
admin tool stays light.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import click

from ..translate.engine import ENGINE_NAMES, TABLES
from .terminal import Bar, echo, echo_json

@click.group("corpus")
def corpus_group() -> None:
    """Build the training corpus for the neural translator."""


@corpus_group.command("build")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default="corpus",
              show_default=True, help="Directory for train.txt, heldout.txt and manifest.json.")
@click.option("--seed", default=1, show_default=True, help="Seed of the generators.")
@click.option("--synthetic-share", default=0.3, show_default=True,
              help="Share of characters made by the generators (numbers, capitals, ...).")
@click.option("--from", "user_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also read your own .txt/.md documents from this directory.")
@click.option("--sources", default="all", show_default=True,
              help="Comma-separated installed sources to read (see the README), or none.")
@click.option("--max-chars", type=int, help="Stop after about this many characters.")
def corpus_build(out: Path, seed: int, synthetic_share: float, user_dir: Path | None,
                 sources: str, max_chars: int | None) -> None:
    """Assemble a deterministic training corpus from installed English text and generators.

    The sources are Debian packages (see `braillejobs.translate.corpus.SOURCES`); a missing one
    is reported with the apt-get line that installs it.
    """
    from ..translate.training import corpus

    def progress(name: str, total: int) -> None:
        echo(f"  {name:<18} done, corpus now {total:,} characters", err=True)

    by_name = {s.name: s for s in corpus.SOURCES}
    names = [n.strip() for n in sources.split(",") if n.strip()]
    if names == ["all"]:
        chosen = list(corpus.SOURCES)
    elif names == ["none"]:
        chosen = []
    else:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise click.BadParameter(f"unknown source {', '.join(unknown)}; choose from "
                                     f"{', '.join(by_name)}, all or none", param_hint="--sources")
        chosen = [by_name[n] for n in names]
    if not chosen and user_dir is None and synthetic_share < 1:
        raise click.UsageError("with --sources none, give --from DIR or --synthetic-share 1")
    try:
        manifest = corpus.build(out, seed=seed, synthetic_share=synthetic_share,
                                sources=chosen, user_dir=user_dir, progress=progress,
                                max_chars=max_chars)
    except corpus.CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    echo(f"corpus: {manifest['chars']:,} characters in {out} "
               f"(train sha256 {manifest['sha256']['train'][:16]}…)")


@click.command("train")
@click.option("--arch", type=click.Choice(["cnn", "rnn"]), default="cnn", show_default=True)
@click.option("--preset", default=None,
              help="Model size. cnn: tiny, cpu, cheap (the default), cheap-plain, base, large; "
                   "rnn: tiny, cpu (the default), base, large, fallback (capital roles).")
@click.option("--table", type=click.Choice(TABLES), default="en-ueb-g2.ctb", show_default=True)
@click.option("--corpus", "corpus_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), default="corpus", show_default=True)
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint file (default runs/<arch>-<table>.pt).")
@click.option("--steps", default=100_000, show_default=True, help="Most optimizer steps.")
@click.option("--max-seconds", type=float, help="Stop after this much training time.")
@click.option("--batch", default=32, show_default=True, help="Windows per step.")
@click.option("--length", default=512, show_default=True, help="Characters per window.")
@click.option("--lr", type=float,
              help="Peak learning rate (default 2e-3 cnn, 1e-3 rnn; 3e-4 when fine-tuning).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--no-resume", is_flag=True, help="Start afresh even if a resume file exists.")
@click.option("--eval-lines", default=2000, show_default=True,
              help="Held-out lines evaluated at the end (0: none).")
@click.option("--init", "init", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fine-tune this checkpoint (keeps its architecture, size and vocabularies; "
                   "--preset is ignored).")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto",
              show_default=True,
              help="auto: bf16 autocast for the CNN on a GPU or a CPU with native bf16.")
@click.option("--focus", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CNN checkpoint: centre a share of the windows on the words it is unsure "
                   "of (what the auto chain hands the BiLSTM).")
@click.option("--focus-share", type=float, default=0.5, show_default=True,
              help="Share of the windows centred by --focus.")
@click.option("--focus-sample", type=click.IntRange(1 << 16), default=16 << 20,
              show_default=True, metavar="CHARS",
              help="Characters of the corpus that the --focus CNN tags to find its unsure words "
                   "(a large CNN on a CPU tags a few thousand a second).")
@click.option("--corrections", "corrections_set", default=None, metavar="SET",
              help="Fine-tune (--init) with the transcribers' corrections as the teacher: the "
              "global set and SET over it (give global for the global set alone).")
@click.option("--corrections-sample", type=click.IntRange(1 << 16), default=None,
              metavar="CHARS",
              help="Relabel only this many characters of the corpus, taken evenly over it, "
                   "with the corrections [default: the whole corpus; a smaller sample costs "
                   "the model more of what it wrote right before].")
@click.option("--corrections-share", type=click.FloatRange(0.01, 1.0), default=0.25,
              show_default=True, help="Share of the windows centred on a corrected word.")
@click.option("--corrections-negatives", type=click.IntRange(0), default=6, show_default=True,
              metavar="N",
              help="For each corrected word, the N corpus words most like it that no "
                   "correction names, centred on as often as the corrected words (so the model "
                   "learns where a correction stops); 0 for none.")
@click.option("--freeze-norm/--train-norm", default=None,
              help="Fine-tuning (--init): keep the model's normalisation statistics instead of "
                   "re-estimating them from the new windows. Default: frozen with "
                   "--corrections (a skewed sample), trained otherwise.")
@click.option("--tune-top", type=click.IntRange(0), default=None, metavar="N",
              help="Fine-tuning a CNN (--init): learn only its last N residual blocks and its "
                   "output layer, keeping the rest as it was [default: learn everything].")
@click.option("--anchor", type=click.FloatRange(0.0), default=None,
              help="Fine-tuning (--init): weight of a term that keeps the starting model's "
                   "predictions where it already writes the label (a KL divergence from its "
                   "distribution), so that it forgets less of what it had right; 0 turns it "
                   "off. Default: 1 with --corrections, 0 otherwise.")
@click.option("--keep-prose/--no-keep-prose", default=None,
              help="Fine-tuning (--init): after training, blend the weights back toward the "
                   "starting model's, as little as it takes for the model to write as many "
                   "held-out lines (their tuning half, where no correction applies) as liblouis "
                   "does as the start did. Default: on with --corrections, off otherwise.")
def train_cmd(arch, preset, table, corpus_dir, out, steps, max_seconds, batch, length, lr,
              device, no_resume, eval_lines, init, precision, focus, focus_share,
              focus_sample, corrections_set, corrections_sample, corrections_share,
              corrections_negatives, freeze_norm, tune_top, anchor, keep_prose) -> None:
    """Train a tagger on the labelled corpus (resumable; CUDA when present).

    With --init, fine-tune an existing checkpoint instead of starting afresh; with
    --corrections too, teach it the transcribers' corrections (liblouis with them labels the
    corpus, and lines that put each corrected word in varied contexts)."""
    from ..translate.training import train as trainer

    from ..translate.checkpoint import ARCHS, CheckpointError

    preset = preset or ("cheap" if arch == "cnn" else "cpu")
    if init is None and preset not in ARCHS[arch][2]:
        raise click.BadParameter(f"{preset!r} is not a {arch} preset: choose one of "
                                 f"{', '.join(ARCHS[arch][2])}", param_hint="--preset")
    out = out or Path("runs") / f"{arch}-{table.removesuffix('.ctb')}.pt"
    opts = trainer.TrainOptions(arch=arch, preset=preset, table=table, steps=steps,
                                max_seconds=max_seconds, batch=batch, length=length, lr=lr,
                                device=device, resume=not no_resume, eval_lines=eval_lines,
                                init=init, precision=precision, focus=focus,
                                focus_share=focus_share, focus_sample=focus_sample,
                                corrections_sample=corrections_sample,
                                corrections_share=corrections_share,
                                corrections_negatives=corrections_negatives,
                                freeze_norm=freeze_norm, tune_top=tune_top, anchor=anchor,
                                keep_prose=keep_prose)
    if corrections_set is not None:
        from ..corrections.active import load

        opts.corrections = load(table, corrections_set)
        if opts.corrections is None:
            raise click.ClickException(f"no correction for {table} in the global set or "
                                       f"{corrections_set!r}: `braillejobs corrections list`")
    def progress(event: dict) -> None:
        if event["phase"] == "focus":
            bar.update(0, info=f"finding unsure words: {event['chars']:,} of "
                               f"{event['of']:,} chars")
        elif event["phase"] in ("count", "label"):
            what = "counting chunks" if event["phase"] == "count" else "labelling"
            bar.update(0, info=f"{what}: {event['chars']:,} chars")
        elif event["phase"] == "blend":
            bar.update(0, info=f"keeping prose: weight {event['weight']:.1f} of the fine-tune "
                               f"writes {event['exact']:.2%} of the tuning lines")
        else:
            done = event["seconds"] if max_seconds else event["step"]
            bar.update(done, info=f"step {event['step']:,} loss {event['loss']:.4f} "
                                  f"{event['chars_seen'] / max(event['seconds'], 1e-9):,.0f}"
                                  " chars/s")

    try:
        with Bar(f"train {arch}/{preset}", max_seconds or steps, log_every=30) as bar:
            ckpt = trainer.train(corpus_dir, out, opts, progress)
    except (ValueError, FileNotFoundError, CheckpointError) as exc:
        raise click.ClickException(str(exc)) from None
    echo(f"saved {out} ({ckpt.version}); held-out: "
               f"{json.dumps(ckpt.meta.get('heldout', {}))}")
    kept = (ckpt.meta.get("fine_tuned_from") or {}).get("kept_prose")
    if kept and kept["lines"]:
        echo(f"kept prose: {kept['weight']:.0%} of the fine-tune's change kept; of "
             f"{kept['lines']} held-out tuning lines it writes {kept['kept']:.2%} as liblouis "
             f"does (the start {kept['start']:.2%}, the whole fine-tune {kept['tuned']:.2%})")
    drift = ckpt.meta.get("heldout_vs_start")
    if drift and drift["lines"] and drift["tuned"] < drift["start"]:
        where = " where no correction applies" if drift["outside_corrections"] else ""
        echo(f"warning: {out} writes {drift['tuned']:.2%} of {drift['lines']} held-out lines"
             f"{where} as liblouis does, the model it started from ({init.name}) "
             f"{drift['start']:.2%}: the fine-tune has drifted from liblouis. Check it on your "
             "own documents before using it, or train again shorter (--max-seconds, --steps) "
             "or slower (--lr).", err=True)


def _thresholds(ctx, param, value: str | None) -> dict[str, float] | None:
    """``cnn=0.999,agree=0.3``: the auto chain's thresholds to evaluate instead of the ones the
    CNN checkpoint carries (any left out keep the checkpoint's)."""
    if not value:
        return None
    from ..translate.thresholds import parse_thresholds

    try:
        return parse_thresholds(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command("evaluate")
@click.option("--engine", "engine_name", type=click.Choice(ENGINE_NAMES), default="auto",
              show_default=True)
@click.option("--table", type=click.Choice(TABLES), default="en-ueb-g2.ctb", show_default=True)
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A text file (one line per case; reference: liblouis) or a rulebook .jsonl.")
@click.option("--limit", type=int, default=5000, show_default=True, help="Most lines read.")
@click.option("--calibrate", "calibrate_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Sweep the auto chain's thresholds (CNN; BiLSTM alone and agreeing with the "
                   "CNN, and the CNN's floor on agreement) on --data and write the curve and "
                   "the choice here.")
@click.option("--wrong", "wrong_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the lines the engine writes otherwise than the reference here (JSON "
                   "Lines: text, both brailles, where they first part, error classes).")
@click.option("--thresholds", callback=_thresholds, metavar="NAME=VALUE,...",
              help="auto: evaluate these thresholds instead of the ones the CNN checkpoint "
                   "carries, e.g. cnn=0.999,agree=0.3,agree_cnn=0.99 (names: cnn, rnn, agree, "
                   "agree_cnn, familiar; the rest keep the checkpoint's).")
def evaluate_cmd(engine_name, table, data, limit, calibrate_out, wrong_out, thresholds) -> None:
    """Exact-line rate (overall and by error class), cell error rate, share per engine and
    chars/s of an engine; for auto, also what the BiLSTM fallback settled."""
    from ..translate.training import evaluate as ev
    from ..translate.engine import EngineError
    from ..translate.registry import get_engine

    if data is None:
        data = ev.RULEBOOK if ev.RULEBOOK.exists() else None
        if data is None:
            raise click.UsageError("give --data FILE (held-out text or a rulebook .jsonl)")
    if wrong_out and calibrate_out:
        raise click.UsageError("--wrong lists one engine's wrong lines; --calibrate sweeps "
                               "thresholds and lists none: give one of them")
    if thresholds and (engine_name != "auto" or calibrate_out):
        raise click.UsageError("--thresholds sets the auto chain's routing: give it with "
                               "--engine auto and without --calibrate")
    if wrong_out:      # opened before the evaluation, so that a bad path fails at once
        try:
            wrong_out.parent.mkdir(parents=True, exist_ok=True)
            wrong_file = wrong_out.open("w", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {wrong_out}: {exc.strerror}; give "
                                       "--wrong a path in a writable folder") from None
    try:
        if calibrate_out:
            from ..translate.neural import load_tagger
            lines = _lines_to_score(data, limit)
            result = ev.calibrate(load_tagger("cnn", table), load_tagger("rnn", table),
                                  lines, rnn_grid=ev.RNN_GRID,
                                  agree_grid=ev.AGREE_GRID,
                                  agree_cnn_grid=ev.AGREE_CNN_GRID)
            calibrate_out.write_text(json.dumps(result, indent=2) + "\n")
            echo_json(result)
            return
        engine = get_engine(engine_name, table)
        if thresholds:     # a copy: the cached engine keeps the checkpoint's routing
            engine = copy.copy(engine)
            engine.thresholds = {**engine.thresholds, **thresholds}
        chain = hasattr(engine, "route") and engine.fallback is not None    # auto
        wrong: list | None = [] if wrong_out else None
        if data.suffix == ".jsonl":
            figures = ev.evaluate_rulebook(engine, data, wrong)
        else:
            lines = _lines_to_score(data, limit)
            figures = ev.evaluate(engine, lines, wrong=wrong)
            if chain:
                figures["routing"] = ev.routing_report(engine, lines)
        if chain:
            figures["thresholds"] = engine.thresholds
        echo_json(figures)
    except BaseException as exc:
        if wrong_out:      # no empty list left behind to be read as "nothing wrong"
            wrong_file.close()
            wrong_out.unlink(missing_ok=True)
        if isinstance(exc, (EngineError, ev.RulebookError)):
            raise click.ClickException(str(exc)) from None
        if isinstance(exc, UnicodeDecodeError):
            raise click.ClickException(f"{data} is not UTF-8 text ({exc.reason}); convert "
                                       "it to UTF-8") from None
        raise
    if wrong_out:
        with wrong_file:
            wrong_file.writelines(json.dumps(w, ensure_ascii=False) + "\n" for w in wrong)
        reference = "the rulebook" if data.suffix == ".jsonl" else "liblouis"
        echo(f"{wrong_out}: {len(wrong)} lines written otherwise than {reference}", err=True)


def _lines_to_score(data: Path, limit: int) -> list[str]:
    from ..translate.training import evaluate as ev

    lines = ev.load_lines(data, limit)
    if not lines:
        raise click.ClickException(f"{data} holds no lines: nothing to score; give a text file "
                                   "with one line of print per case")
    return lines


COMMANDS: list[click.Command] = [corpus_group, train_cmd, evaluate_cmd]
