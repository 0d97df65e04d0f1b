"""One trainer for both taggers: label the corpus with liblouis, then fit on random windows.

Labelling runs once per corpus, table and vocabulary and is cached next to the corpus
(``labels-<table>.npz``). A fresh vocabulary takes two passes: the first counts liblouis's chunks,
the second labels with lumped chunks spread over known pieces (``labels.refine``); fine-tuning
(``init``) labels once, with the vocabulary of the checkpoint it starts from.

Training samples windows from the labelled stream (lines joined by the separator, exactly as the
engines feed them at inference), runs on CUDA when present with bf16 autocast, saves a resume
file every minute and at the end, and writes a checkpoint that carries its config,
vocabularies, table, corpus digest and evaluation figures.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import checkpoint as ckpt_mod
from ..capitals import letter_classes, with_roles
from ..device import cpu_has_bf16
from ..vocab import Vocab, code_points
from .corpus import read_lines
from .labels import Progress, label_stream
from .taught import NEIGHBOURS


# ---------------------------------------------------------------------------------------------
# labelling

LABEL_FORMAT = 3      # 2: escapes and spread chunks (labels.refine); 3: phrases cut at spaces


def labels_path(corpus_dir: Path, table: str, vocab: Vocab | None = None) -> Path:
    """The label cache: one for the corpus's own vocabulary, one per vocabulary given (a
    fine-tune labels in its checkpoint's), so that neither overwrites the other."""
    suffix = f"-{_vocab_digest(vocab)[:12]}" if vocab is not None else ""
    return Path(corpus_dir) / f"labels-{table.removesuffix('.ctb')}{suffix}.npz"


@dataclass
class Labelled:
    vocab: Vocab
    x: np.ndarray        # int16 character ids of the train stream
    y: np.ndarray        # int16 chunk ids
    stats: dict


def _vocab_digest(vocab: Vocab) -> str:
    return hashlib.sha256(json.dumps(vocab.to_dict()).encode()).hexdigest()


def label_corpus(corpus_dir: Path, table: str, *, vocab: Vocab | None = None,
                 workers: int | None = None, max_chunks: int = 1024,
                 progress: Progress | None = None, force: bool = False) -> Labelled:
    """Label ``train.txt`` with liblouis (cached). Without ``vocab``, build the vocabularies from
    it (two passes); with one (fine-tuning), label in that vocabulary."""
    corpus_dir = Path(corpus_dir)
    cache = labels_path(corpus_dir, table, vocab)
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    wanted_vocab = _vocab_digest(vocab) if vocab is not None else None
    if cache.exists() and not force:
        data = np.load(cache, allow_pickle=False)
        stats = json.loads(str(data["stats"]))
        if stats.get("corpus_sha256") == manifest["sha256"]["train"] and \
                stats.get("label_format") == LABEL_FORMAT and \
                stats.get("given_vocab_sha256") == wanted_vocab:
            return Labelled(Vocab.from_dict(json.loads(str(data["vocab"]))), data["x"], data["y"],
                            stats)
    started = time.monotonic()
    if vocab is None:
        text, all_keys, dropped = label_stream(read_lines(corpus_dir / "train.txt"), table, None,
                                               workers, progress, "count")
        uniq, counts = np.unique(code_points(text), return_counts=True)
        char_counts = {chr(int(u)): int(c) for u, c in zip(uniq, counts)}
        kuniq, kcounts = np.unique(all_keys, return_counts=True)
        key_counts = {int(u): int(c) for u, c in zip(kuniq, kcounts)}
        vocab = Vocab.build(char_counts, key_counts, max_chunks=max_chunks)
    known = frozenset(k for k in vocab.chunk_keys if k >= 0)
    text, all_keys, dropped = label_stream(read_lines(corpus_dir / "train.txt"), table, known,
                                           workers, progress, "label")
    kuniq = np.unique(all_keys)
    x = vocab.encode(text).astype(np.int16)
    y = vocab.chunk_ids(all_keys).astype(np.int16)       # ESCAPE keys map to the escape id
    covered = float(np.mean(y != 1)) if len(y) else 0.0
    stats = {
        "table": table,
        "corpus_sha256": manifest["sha256"]["train"],
        "label_format": LABEL_FORMAT,
        "given_vocab_sha256": wanted_vocab,
        "chars": int(len(x)),
        "lines_dropped": dropped,
        "distinct_chunks": int(len(kuniq)),
        "chunk_vocab": vocab.n_chunks,
        "char_vocab": vocab.n_chars,
        "chunk_coverage": covered,
        "label_seconds": round(time.monotonic() - started, 1),
    }
    np.savez(cache, x=x, y=y, vocab=json.dumps(vocab.to_dict()), stats=json.dumps(stats))
    return Labelled(vocab, x, y, stats)


# ---------------------------------------------------------------------------------------------
# training

@dataclass
class TrainOptions:
    arch: str = "cnn"
    preset: str = "cpu"
    table: str = "en-ueb-g2.ctb"
    steps: int = 100_000
    max_seconds: float | None = None
    batch: int = 32
    length: int = 512
    lr: float | None = None
    warmup: int = 200
    seed: int = 1
    device: str = "auto"
    resume: bool = True
    save_every: float = 60.0
    eval_lines: int = 2000
    init: Path | None = None       # fine-tune from this checkpoint (its arch, config, vocabulary)
    precision: str = "auto"        # auto, fp32 or bf16 (autocast)
    focus: Path | None = None      # a CNN checkpoint: centre windows on the words it is unsure of
    focus_share: float = 0.5       # of the windows
    focus_threshold: float = 0.999
    focus_sample: int = 16 << 20   # characters of the stream the focus CNN tags
    # the transcribers' corrections as the teacher (an ActiveCorrections; fine-tuning only)
    corrections: object | None = None
    corrections_sample: int | None = None   # characters of the corpus relabelled with them
                                            # (None: all of it)
    corrections_share: float = 0.25     # of the windows, centred on a corrected word
    corrections_negatives: int = NEIGHBOURS   # words like each corrected word, as often
    # fine-tuning: keep the normalisation statistics of the --init model (a small or skewed
    # sample re-estimates them for its own distribution; default: with --corrections)
    freeze_norm: bool | None = None
    # fine-tuning a CNN: learn only its last N residual blocks and output layer (None: all)
    tune_top: int | None = None
    # fine-tuning: weight of a term that keeps the starting model's predictions where it
    # already writes the label (KL divergence from its distribution; 0: off; None: the default,
    # ANCHOR_WITH_CORRECTIONS with corrections, off otherwise)
    anchor: float | None = None
    # fine-tuning: blend the weights back toward the starting model's until the blend writes the
    # held-out tuning lines as well as the start did (None: the default, on with corrections)
    keep_prose: bool | None = None


PRECISIONS = ("auto", "fp32", "bf16")
# The anchor's weight when fine-tuning on corrections: on the rulebook's five folds weight 1
# halved the prose the corrections stream cost beyond a plain fine-tune and kept most of what it
# learned; on fold 0, 4 kept a little more prose and learned less (README, the k-fold).
ANCHOR_WITH_CORRECTIONS = 1.0
# Held-out lines read for --keep-prose, spread over the split; their tuning half is scored.
KEEP_PROSE_LINES = 8000


def use_bf16(opts: TrainOptions, device: torch.device) -> bool:
    """bf16 autocast for the CNN on a GPU or a CPU with native bf16; the LSTM trains in fp32."""
    if opts.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {opts.precision!r}: choose {', '.join(PRECISIONS)}")
    if opts.precision != "auto":
        return opts.precision == "bf16"
    return opts.arch == "cnn" and (device.type == "cuda" or cpu_has_bf16())


def _grow_outputs(model: torch.nn.Module, state: dict, n_old: int) -> dict:
    """The checkpoint's weights for a model whose output layer has more chunks (appended)."""
    own = model.state_dict()
    merged = {}
    for key, value in state.items():
        target = own[key]
        if value.shape != target.shape and value.shape[0] == n_old:
            grown = target.clone()
            grown[:n_old] = value.to(target.dtype)
            if key.endswith("bias"):     # new chunks start unlikely: the old model never saw them
                grown[n_old:] = value.min()
            value = grown
        merged[key] = value.to(target.dtype)
    return merged


def freeze_norms(model: torch.nn.Module) -> None:
    """Batch normalisation of a training model uses the statistics it learned instead of each
    batch's, and stops updating them (its scale and shift still learn)."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def anchor_loss(logits: torch.Tensor, teacher: torch.nn.Module, xb: torch.Tensor,
                yb: torch.Tensor) -> torch.Tensor:
    """Mean KL divergence of ``logits`` from the starting model's distribution, over the
    positions where the starting model's best guess is already the label: what it had right is
    kept, what it had wrong (a correction, its own mistakes) is left to the labels."""
    with torch.no_grad():
        ref = teacher(xb).float().log_softmax(-1)
        keep = (ref.argmax(-1) == yb).float()
    own = logits.float().log_softmax(-1)
    kl = (ref.exp() * (ref - own)).sum(-1)
    return (kl * keep).sum() / keep.sum().clamp(min=1.0)


def blend_back(model: torch.nn.Module, base: ckpt_mod.Checkpoint, vocab: Vocab, table: str,
               heldout: Path, matcher, device: torch.device,
               progress: Progress | None = None) -> dict:
    """Load into ``model`` (a fine-tune of ``base``) the blend of the two weights nearest the
    fine-tune that writes the tuning half of the held-out lines (those where no correction
    applies, with the corrections' ``matcher``) as liblouis does at least as often as ``base``;
    the measurements, for the checkpoint. The evaluation half is left for reporting."""
    from ..louis_engine import LouisEngine
    from .blend import keep_prose
    from .evaluate import halves, load_lines

    lines = halves(load_lines(heldout, KEEP_PROSE_LINES))[0]
    if matcher is not None:
        lines = [line for line in lines if not matcher.spans(line)]
    if not lines:
        return {"weight": 1.0, "lines": 0}
    louis = LouisEngine(table)
    refs = [louis.translate_text(line) for line in lines]
    start = {k: v.cpu() for k, v in
             _grow_outputs(model, base.state_dict, base.vocab.n_chunks).items()}
    tuned = ckpt_mod.Checkpoint(model.arch, model.config, vocab, table,
                                {k: v.detach().cpu() for k, v in model.state_dict().items()})
    state, figures = keep_prose(start, tuned, lines, refs, device, progress=progress)
    model.load_state_dict(state)
    return figures


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resume_path(out: Path) -> Path:
    return out.with_name(out.stem + ".resume.pt")


def train(corpus_dir: Path, out: Path, opts: TrainOptions,
          progress: Progress | None = None) -> ckpt_mod.Checkpoint:
    corpus_dir, out = Path(corpus_dir), Path(out)
    base = ckpt_mod.load(opts.init) if opts.init else None
    if base is not None and base.arch != opts.arch:
        raise ValueError(f"{opts.init} holds a {base.arch} model, not {opts.arch}; "
                         f"use --arch {base.arch}")
    if opts.freeze_norm is not None and base is None:
        raise ValueError("--freeze-norm/--train-norm is for fine-tuning: give the checkpoint to "
                         "start from with --init, or leave the option out")
    hard: np.ndarray | None = None
    share = opts.focus_share
    taught: dict | None = None
    if opts.corrections is not None:
        if base is None:
            raise ValueError("--corrections fine-tunes a model: give the checkpoint to start "
                             "from with --init")
        if opts.focus is not None:
            raise ValueError("--corrections and --focus cannot be combined")
        from .corpus import corpus_digest
        from .taught import taught_stream
        active = opts.corrections
        tx, ty, hard, taught = taught_stream(
            corpus_dir, base.vocab.with_escape(), active.tables,
            [p for p, _b in active.braille], sample_chars=opts.corrections_sample,
            negatives=opts.corrections_negatives, seed=opts.seed, progress=progress)
        if not len(hard):
            raise ValueError("no corrected word in the stream: are the corrections for this "
                             "table?")
        share = opts.corrections_share
        labelled = Labelled(base.vocab.with_escape(), tx, ty,
                            {"corpus_sha256": corpus_digest(corpus_dir), **taught})
    else:
        labelled = label_corpus(corpus_dir, opts.table,
                                vocab=base.vocab.with_escape() if base else None,
                                progress=progress)
    vocab = labelled.vocab
    device = _device(opts.device)
    torch.manual_seed(opts.seed)
    if base is not None:
        if base.table != opts.table:
            raise ValueError(f"{opts.init} was trained for {base.table}, not {opts.table}")
        config = type(base.config).from_dict({**base.config.to_dict(),
                                              "n_chunks": vocab.n_chunks})
        model = ckpt_mod.ARCHS[opts.arch][1](config)
        model.load_state_dict(_grow_outputs(model, base.state_dict, base.vocab.n_chunks))
        model = model.to(device)
        preset = base.meta.get("preset", opts.preset)
        init_meta = {"version": base.version, "file": Path(opts.init).name,
                     **{k: base.meta.get(k) for k in ("preset", "steps", "chars_seen",
                                                       "train_seconds", "device",
                                                       "corpus_sha256")}}
    else:
        config = ckpt_mod.make_config(opts.arch, opts.preset, vocab)
        model = ckpt_mod.ARCHS[opts.arch][1](config).to(device)
        preset, init_meta = opts.preset, None
    lr = opts.lr or (3e-4 if base else (2e-3 if opts.arch == "cnn" else 1e-3))
    params = list(model.parameters())
    if opts.tune_top is not None:
        if base is None or not hasattr(model, "top"):
            raise ValueError("--tune-top fine-tunes the top of a CNN: give a CNN checkpoint to "
                             "start from (--init)")
        params = model.top(opts.tune_top)
        learning = {id(p) for p in params}
        for p in model.parameters():   # the rest keeps the starting model's weights
            p.requires_grad_(id(p) in learning)
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    anchor = opts.anchor if opts.anchor is not None else \
        (ANCHOR_WITH_CORRECTIONS if opts.corrections is not None else 0.0)
    teacher = None
    if anchor:
        if base is None:
            raise ValueError("--anchor keeps a starting model's predictions: give the checkpoint "
                             "to start from with --init")
        teacher = copy.deepcopy(model).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    keep = opts.keep_prose if opts.keep_prose is not None else opts.corrections is not None
    if keep:
        if base is None:
            raise ValueError("--keep-prose blends a fine-tune back toward the model it started "
                             "from: give that checkpoint with --init")
        if not (corpus_dir / "heldout.txt").exists():
            raise FileNotFoundError(f"{corpus_dir / 'heldout.txt'}: no held-out lines to check "
                                    "the fine-tune's prose on; build the corpus with "
                                    "`braillejobs corpus build`, or train with --no-keep-prose")
    step, elapsed, chars_seen = 0, 0.0, 0
    rng = np.random.default_rng(opts.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    rpath = resume_path(out)
    if opts.resume and rpath.exists():
        state = torch.load(rpath, map_location=device, weights_only=False)
        if state["arch"] == opts.arch and state["preset"] == preset and \
                state["corpus_sha256"] == labelled.stats["corpus_sha256"] and \
                state.get("taught") == (opts.corrections.digest if taught else None) and \
                state.get("init") == (init_meta or {}).get("version") and \
                state.get("tune_top") == opts.tune_top and \
                state.get("anchor", 0.0) == anchor:
            model.load_state_dict(state["model"])
            optim.load_state_dict(state["optim"])
            step, elapsed, chars_seen = state["step"], state["elapsed"], state["chars_seen"]
            rng.bit_generator.state = state["rng"]
    if opts.focus is not None:
        if not 0 < opts.focus_share <= 1:
            raise ValueError(f"focus share {opts.focus_share} is not in (0, 1]")
        from .focus import hard_positions, stream_text
        hard = hard_positions(stream_text(labelled.x, vocab, corpus_dir), opts.focus, corpus_dir,
                              threshold=opts.focus_threshold,
                              sample_chars=opts.focus_sample, device=str(device),
                              progress=progress)
        if not len(hard):
            raise ValueError(f"{opts.focus}: the CNN is sure of every word of the sample; "
                             "there is nothing to focus on (try a higher --focus-threshold)")
    x = torch.from_numpy(labelled.x.astype(np.int64))
    if getattr(config, "capital_roles", False):   # the roles of the whole stream, once
        x = with_roles(x, torch.from_numpy(letter_classes(vocab)), vocab.n_chars)
    x = x.to(device)
    y = torch.from_numpy(labelled.y.astype(np.int64)).to(device)
    n = len(x) - opts.length - 1
    if n <= 0:
        raise ValueError(f"corpus of {len(x)} characters is shorter than one window "
                         f"({opts.length}); build a larger corpus")
    offsets = torch.arange(opts.length, device=device)
    loss_fn = torch.nn.CrossEntropyLoss()
    use_amp = use_bf16(opts, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model.train()
    norm_frozen = base is not None and (opts.freeze_norm if opts.freeze_norm is not None
                                        else opts.corrections is not None)
    if norm_frozen:
        freeze_norms(model)
    elif opts.tune_top is not None:   # the kept layers keep their statistics too
        for m in model.modules():
            if not any(p.requires_grad for p in m.parameters()):
                freeze_norms(m)

    def save_resume() -> None:
        torch.save({"arch": opts.arch, "preset": preset, "init": (init_meta or {}).get("version"),
                    "tune_top": opts.tune_top, "anchor": anchor,
                    "model": model.state_dict(),
                    "optim": optim.state_dict(), "step": step, "elapsed": elapsed,
                    "chars_seen": chars_seen, "rng": rng.bit_generator.state,
                    "taught": opts.corrections.digest if taught else None,
                    "corpus_sha256": labelled.stats["corpus_sha256"]}, rpath)

    started = time.monotonic() - elapsed
    last_save = time.monotonic()
    loss_sum = torch.zeros((), device=device)
    while step < opts.steps:
        elapsed = time.monotonic() - started
        if opts.max_seconds is not None and elapsed >= opts.max_seconds:
            break
        frac = max(step / opts.steps, elapsed / opts.max_seconds if opts.max_seconds else 0.0)
        warm = min(1.0, (step + 1) / opts.warmup)
        for group in optim.param_groups:
            group["lr"] = lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        picked = rng.integers(0, n, opts.batch)
        if hard is not None:      # a share of the windows around a word the CNN is unsure of
            around = hard[rng.integers(0, len(hard), opts.batch)] - \
                rng.integers(0, opts.length, opts.batch)     # (or a corrected word)
            picked = np.where(rng.random(opts.batch) < share,
                              np.clip(around, 0, n - 1), picked)
        starts = torch.from_numpy(picked).to(device)
        idx = starts[:, None] + offsets
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            logits = model(x[idx])
            loss = loss_fn(logits.float().reshape(-1, vocab.n_chunks), y[idx].reshape(-1))
            if teacher is not None:
                loss = loss + anchor * anchor_loss(logits, teacher, x[idx], y[idx])
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        step += 1
        chars_seen += opts.batch * opts.length
        loss_sum += loss.detach()
        if step % 25 == 0:
            mean_loss = float(loss_sum) / 25   # one device sync every 25 steps
            loss_sum.zero_()
            if progress:
                progress({"phase": "train", "step": step, "steps": opts.steps, "loss": mean_loss,
                          "seconds": time.monotonic() - started, "max_seconds": opts.max_seconds,
                          "chars_seen": chars_seen})
        if time.monotonic() - last_save >= opts.save_every:
            save_resume()
            last_save = time.monotonic()
    elapsed = time.monotonic() - started
    save_resume()     # the fine-tune as trained, so that a resume goes on from it
    model.eval()
    kept = None
    if keep:
        kept = blend_back(model, base, vocab, opts.table, corpus_dir / "heldout.txt",
                          opts.corrections.matcher if taught is not None else None, device,
                          progress)
    meta = {
        "preset": preset,
        "precision": "bf16" if use_amp else "fp32",
        "steps": step,
        "chars_seen": chars_seen,
        "train_seconds": round(elapsed, 1),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "batch": opts.batch,
        "length": opts.length,
        "lr": lr,
        "corpus_sha256": labelled.stats["corpus_sha256"],
        "labels": labelled.stats,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": str(torch.__version__),
    }
    if init_meta is not None:
        meta["fine_tuned_from"] = {**init_meta, "norm_frozen": norm_frozen,
                                   "tuned_top_blocks": opts.tune_top, "anchor": anchor,
                                   "kept_prose": kept}
    if taught is not None:
        meta["corrections"] = {"digest": opts.corrections.digest, "share": share, **taught}
    elif hard is not None:
        meta["focus"] = {"cnn": ckpt_mod.load(opts.focus).version, "share": opts.focus_share,
                         "threshold": opts.focus_threshold, "sample_chars": opts.focus_sample,
                         "positions": int(len(hard))}
    ckpt = ckpt_mod.save(out, model, vocab, opts.table, meta)
    if opts.eval_lines:
        from .evaluate import evaluate_checkpoint_file
        figures = evaluate_checkpoint_file(out, corpus_dir / "heldout.txt", opts.eval_lines,
                                           device=str(device))
        meta["heldout"] = figures
        if base is not None:
            from .evaluate import drift_from_start
            meta["heldout_vs_start"] = drift_from_start(
                Path(opts.init), out, corpus_dir / "heldout.txt", opts.eval_lines,
                opts.corrections.matcher if taught is not None else None, device=str(device))
        ckpt = ckpt_mod.save(out, model, vocab, opts.table, meta)
    return ckpt
