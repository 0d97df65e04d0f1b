"""The neural engines: ``cnn``, ``rnn`` and the ``auto`` chain CNN → BiLSTM → liblouis.

All lines of a batch are packed into one stream of character ids, separated by the separator id
the models were trained with, and cut into overlapping windows: every window carries a margin of
at least the model's receptive field on each side, and only its core is kept, so no character
loses context and no compute is spent on padding between lines. One forward pass tags the batch.

``auto``: a word (a run of non-space characters) is as sure as its least sure character. Words
under the CNN threshold, or holding a character or chunk outside the vocabularies, are re-tagged
by the BiLSTM over their whole line. The BiLSTM settles such a word when it is sure of its own
answer (the ``rnn`` threshold), or when it writes the word exactly as the CNN did and is at least
as sure as the lower ``agree`` threshold while the CNN's least sure character of the word is at
least ``agree_cnn``: two models of different kinds, trained apart, rarely make the same mistake,
and most words the CNN is unsure of it wrote right. A word still unsure stays the CNN's if the
CNN wrote it as liblouis wrote the same token, in the same capitals role, in the training
corpus and holds it at least ``familiar`` sure (``familiar.py``). The rest go
to liblouis, which translates the whole line (so its context rules hold) and whose per-character
chunks replace those of the unsure words. Last, a word a model wrote that holds a digit, or
letters UEB marks with the grade 1 indicator when they stand alone (``alr``, ``SD``: bare, they
read as "already", "SAID"), goes to liblouis too if the model's ⠰ or ⠼ cells differ from
liblouis's (``indicators``); and so does a word a model wrote whole that the familiar set does
not vouch for, where liblouis writes it otherwise standing alone, the cells its neighbours decide
aside (``novel``: the tables' irregular words, *citizeness*, *tearoom*, that a model never saw);
and a word whose capitals role hangs on how letters outside ASCII count (``PROUD TO BE A ΦΒΚ``:
``capitals.uncertain_roles``).
Lines with emphasis (typeforms) go to liblouis whole: UEB emphasis indicators depend on spans the
taggers do not see. The thresholds are measured (``braillejobs evaluate --calibrate``) and stored
in the CNN checkpoint.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from . import checkpoint as ckpt_mod
from .capitals import letter_classes, token_roles, uncertain_roles, with_roles
from .device import cpu_has_bf16, pick_device
from .device_decode import DeviceDecoder
from .engine import EngineError, LineTranslation, check_table
from .familiar import Familiar, path_for
from .indicators import IndicatorCheck
from .novel import NovelCheck, whole_tokens
from .novel import undefined as novel_undefined
from .louis_engine import AlignmentError, LouisEngine, align
from .thresholds import DEFAULT_THRESHOLDS
from .vocab import SEPARATOR, UNK_CHUNK, UNK_ID, Vocab, code_points

log = logging.getLogger("braillejobs.neural")


def stream_points(lines: Sequence[str]) -> np.ndarray:
    """The code points of a stream: separator, line, separator, line, ..., separator."""
    return code_points(SEPARATOR + SEPARATOR.join(lines) + SEPARATOR)


@dataclass
class Routing:
    """The auto chain's decision for a batch of lines (concatenated)."""
    pred: np.ndarray      # chunk id per character (primary vocabulary) from the CNN or BiLSTM
    engine: np.ndarray    # who writes each character: 0 cnn, 1 rnn, 2 liblouis
    handed: np.ndarray    # characters of the words the CNN handed to the BiLSTM
    first: np.ndarray     # the CNN's own chunk ids (as it would have written every word)
    agreed: np.ndarray    # characters the BiLSTM settled by agreeing with the CNN
    second: np.ndarray    # the BiLSTM's own chunk ids (CNN's vocabulary) where asked, or -1
    first_conf: np.ndarray   # the CNN's probability of its chunk
    second_conf: np.ndarray  # the BiLSTM's, where asked (-1 where not, or not writable)
    familiar: np.ndarray  # characters of handed words the CNN kept as it was taught them
    indicator_to_louis: np.ndarray  # characters the indicator check sent to liblouis
    novel_asked: np.ndarray  # characters of model-written words outside the familiar set
    novel_to_louis: np.ndarray  # of those, the words the novel-word check sent to liblouis
    roles_to_louis: np.ndarray  # words whose capitals role hangs on letters outside ASCII
    lengths: np.ndarray   # of the lines
    offsets: np.ndarray   # start of each line, and the end
    points: np.ndarray    # code points
    ids: np.ndarray       # the CNN's input ids


@dataclass
class Tagged:
    pred: np.ndarray   # chunk id per character of the concatenated lines
    conf: np.ndarray   # probability of that chunk
    ids: np.ndarray    # input character ids of the concatenated lines
    points: np.ndarray  # their code points (escapes are spelled from them)


class Tagger:
    """A loaded model that tags streams of lines; one per process and model file."""

    def __init__(self, checkpoint: ckpt_mod.Checkpoint, device: torch.device,
                 batch_chars: int | None = None):
        self.checkpoint = checkpoint
        self.vocab: Vocab = checkpoint.vocab
        self.device = device
        self.model = checkpoint.build_model(device)
        self.arch = checkpoint.arch
        # The CNN runs with bf16 weights (no per-call casts) on a GPU and on a CPU that computes
        # bf16 natively (on the held-out split: the same output as fp32, 1.8x the speed on 2 cores);
        # the LSTM stays in fp32.
        self.amp = self.arch == "cnn" and (device.type == "cuda" or
                                           (device.type == "cpu" and cpu_has_bf16()))
        if self.amp:
            if device.type == "cuda":
                torch.backends.cudnn.benchmark = True
            self.model = self.model.to(torch.bfloat16)
        self.version = checkpoint.version
        context = self.model.context
        self.margin = int(np.ceil(context / 16) * 16)
        # Each window recomputes a margin on both sides: long windows on a GPU keep that small
        # (2 x 192 around 8,192 characters for the large preset), shorter ones suit CPU caches.
        if self.arch == "cnn":
            self.core = 8192 if device.type == "cuda" else 2048
        else:
            self.core = 256
        self.window = self.core + 2 * self.margin
        if batch_chars is None:  # a GPU wants large batches; a CPU works best in its caches
            batch_chars = 1 << 20 if device.type == "cuda" else 1 << 16
        self.windows_per_batch = max(1, batch_chars // self.window)
        self._lock = threading.Lock()
        self.char_table = torch.from_numpy(self.vocab.char_table).to(device)
        # the CNN's input may carry each character's role in a run of capitalised words
        self.letter_classes = (torch.from_numpy(letter_classes(self.vocab)).to(device)
                               if getattr(checkpoint.config, "capital_roles", False) else None)
        self.decoder = DeviceDecoder(self.vocab, device)

    def encode_lines(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stream ids (separator, line, separator, line, ..., separator), the line mask and the
        stream's code points."""
        points = stream_points(lines)
        is_line = np.ones(len(points), dtype=bool)
        seps = np.cumsum([0] + [len(line) + 1 for line in lines])
        is_line[seps] = False
        return self.vocab.encode_points(points), is_line, points

    @torch.inference_mode()
    def tag_stream(self, stream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chunk id and its probability at every position of a stream of character ids."""
        pred, conf = self.tag_ids(torch.from_numpy(stream).to(self.device), with_conf=True)
        return pred.cpu().numpy(), conf.cpu().numpy()

    def tag_ids(self, ids: torch.Tensor, with_conf: bool
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Tag a stream of ids on the device, in overlapping windows; the results stay there.
        Without ``with_conf``, only the argmax of the logits is taken (in their own precision:
        the same ids as in fp32, without writing the logits out again as fp32)."""
        n = len(ids)
        if self.letter_classes is not None:   # over the whole stream, before the windows
            ids = with_roles(ids, self.letter_classes, self.vocab.n_chars)
        n_windows = max(1, -(-n // self.core))
        padded = ids.new_zeros(n_windows * self.core + 2 * self.margin)
        padded[self.margin:self.margin + n] = ids
        windows = padded.unfold(0, self.window, self.core)          # [n_windows, window]
        preds, confs = [], []
        i = 0
        per_batch = self.windows_per_batch
        with self._lock:
            while i < n_windows:
                batch = windows[i:i + per_batch]
                try:
                    logits = self.model(batch)[:, self.margin:self.margin + self.core]
                    if with_conf:
                        logits = logits.float()
                        top, pred = logits.max(dim=-1)
                        confs.append(torch.exp(top - torch.logsumexp(logits, dim=-1)).reshape(-1))
                    else:   # max's indices: argmax's, at 2.4x its speed on a CPU in bf16
                        pred = logits.max(dim=-1).indices
                except torch.cuda.OutOfMemoryError:
                    if per_batch == 1:
                        raise
                    per_batch = max(1, per_batch // 2)
                    torch.cuda.empty_cache()
                    log.warning("CUDA out of memory: batch halved to %d windows", per_batch)
                    continue
                preds.append(pred.reshape(-1))
                i += len(batch)
            self.windows_per_batch = per_batch
        return torch.cat(preds)[:n], (torch.cat(confs)[:n] if with_conf else None)

    def tag_lines(self, lines: Sequence[str]) -> Tagged:
        stream, is_line, points = self.encode_lines(lines)
        pred, conf = self.tag_stream(stream)
        return Tagged(pred[is_line], conf[is_line], stream[is_line], points[is_line])

    @torch.inference_mode()
    def braille_lines(self, lines: Sequence[str]) -> list[str]:
        """The braille of each line by this model alone, text in to text out. Only the code
        points go to the device and only the cells come back: the character table, the tagging
        and the decoding all run there (see ``device_decode``)."""
        points = torch.from_numpy(stream_points(lines).view(np.int32).copy()).to(self.device)
        pred, _ = self.tag_ids(self.char_table[points], with_conf=False)
        on_line = points != ord(SEPARATOR)
        return self.decoder.decode(pred[on_line], points[on_line], [len(x) for x in lines])


def _segments(ids: np.ndarray, lengths: np.ndarray, space_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of every word and every run of spaces, never across lines."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    is_space = ids == space_id
    boundary = np.zeros(n, dtype=bool)
    boundary[0] = True
    boundary[1:] = is_space[1:] != is_space[:-1]
    line_starts = np.cumsum(np.r_[0, lengths[:-1]])
    boundary[line_starts[lengths > 0]] = True
    starts = np.flatnonzero(boundary)
    seg_len = np.diff(np.r_[starts, n])
    return starts, seg_len


def word_minimum(tagged: Tagged, lengths: np.ndarray, space_id: int) -> np.ndarray:
    """For each character, how sure the model is of its word: the least sure character's
    probability (-1 where the word holds an unrepresentable character or chunk)."""
    if len(tagged.ids) == 0:
        return np.zeros(0, dtype=np.float32)
    starts, seg_len = _segments(tagged.ids, lengths, space_id)
    bad_char = (tagged.ids == UNK_ID) | (tagged.pred == UNK_CHUNK)
    score = np.where(bad_char, -1.0, tagged.conf)
    return np.repeat(np.minimum.reduceat(score, starts), seg_len)


def unsure_chars(tagged: Tagged, lengths: np.ndarray, threshold: float, space_id: int) -> np.ndarray:
    """Mask of characters in words that are unsure or unrepresentable."""
    return word_minimum(tagged, lengths, space_id) < threshold


def _space_id(vocab: Vocab) -> int:
    space = vocab.encode(" ")
    return int(space[0]) if len(space) else -1


ENGINE_CODES = ("cnn", "rnn", "louis")
_BRAILLE = re.compile("[\u2800-\u28ff]")


class NeuralEngine:
    """``cnn`` or ``rnn`` alone, or the ``auto`` chain."""

    def __init__(self, name: str, table: str, primary: Tagger, fallback: Tagger | None,
                 thresholds: dict[str, float], corrections=None,
                 familiar: Familiar | None = None):
        self.name = name
        self.table = check_table(table)
        self.primary = primary
        self.fallback = fallback
        self.thresholds = thresholds
        # liblouis with the transcribers' corrections writes every word they rule on
        self.louis = LouisEngine(table, corrections)
        self.matcher = corrections.matcher if corrections is not None else None
        self.space_id = _space_id(primary.vocab)
        self.fallback_space_id = _space_id(fallback.vocab) if fallback else -1
        self.device = primary.device
        self.familiar = familiar      # tokens and their braille in training (``familiar`` rule)
        # the auto chain hands liblouis the words whose grade 1 or numeric indicators a model
        # wrote otherwise than liblouis
        self.indicators = (IndicatorCheck(self.louis.tables, primary.vocab.chunk_strings)
                           if name == "auto" else None)
        # and the words a model wrote otherwise than it was taught, where liblouis writes them
        # otherwise too
        self.novel = (NovelCheck(self.louis.tables, familiar, primary.vocab)
                      if name == "auto" else None)
        self.model_version = primary.version + (f"+{fallback.version}" if fallback else "")
        # the fallback's chunk ids in the primary's vocabulary (a fine-tuned CNN may know more)
        self.fallback_map = primary.vocab.chunk_map(fallback.vocab) if fallback else None

    def translate_lines(self, lines: Sequence[str],
                        typeforms: Sequence[Sequence[int] | None] | None = None
                        ) -> list[LineTranslation]:
        lines = list(lines)
        for line in lines:
            if SEPARATOR in line or "\r" in line:
                raise ValueError("lines passed to an engine must not contain line breaks")
        # Lines with emphasis, and lines holding braille cells the layout wrote itself (level
        # indicators, UEB 3.24), go to liblouis whole: the taggers know neither typeforms nor
        # braille in their input, and liblouis passes braille through unchanged.
        emphasised = {i for i, tf in enumerate(typeforms or []) if tf is not None and any(tf)}
        emphasised.update(i for i, line in enumerate(lines) if _BRAILLE.search(line))
        results: list[LineTranslation | None] = [None] * len(lines)
        for i in sorted(emphasised):
            results[i] = self.louis.translate_lines(
                [lines[i]], [typeforms[i] if typeforms else None])[0]
        todo = [i for i in range(len(lines)) if results[i] is None]
        plain = [lines[i] for i in todo]
        for i, r in zip(todo, self._translate_plain(plain)):
            results[i] = r
        return results  # type: ignore[return-value]

    def _translate_plain(self, lines: list[str]) -> list[LineTranslation]:
        if not lines:
            return []
        if self.name != "auto":
            own = self.primary.arch
            texts = self.primary.braille_lines(lines)
            out = [LineTranslation(t, {own: len(x)} if x else {}) for t, x in zip(texts, lines)]
            masks = {}                  # line -> its corrected characters, where any
            if self.matcher:
                for i, line in enumerate(lines):
                    mask = self._corrected(line)
                    if mask.any():
                        masks[i] = mask
            hit = list(masks)
            if hit:   # the corrected words come from liblouis with the corrections
                tagged = self.primary.tag_lines([lines[i] for i in hit])
                offsets = np.r_[0, np.cumsum([len(lines[i]) for i in hit])]
                for k, i in enumerate(hit):
                    a, b = offsets[k], offsets[k + 1]
                    mask = masks[i]
                    engine = np.where(mask, 2, 0).astype(np.int8)
                    text = self._splice(lines[i], tagged.pred[a:b], tagged.points[a:b], mask,
                                        engine)
                    counts = {own: int((engine == 0).sum()), "louis": int((engine == 2).sum())}
                    out[i] = LineTranslation(text, {k2: c for k2, c in counts.items() if c})
            return out
        r = self.route(lines)
        texts = self.primary.vocab.decode_many(r.pred, r.lengths, r.points)
        out = []
        for i, line in enumerate(lines):
            a, b = r.offsets[i], r.offsets[i + 1]
            louis_here = r.engine[a:b] == 2
            if louis_here.any():
                texts[i] = self._splice(line, r.pred[a:b], r.points[a:b], louis_here,
                                        r.engine[a:b])
            counts = np.bincount(r.engine[a:b], minlength=3)
            out.append(LineTranslation(texts[i], {ENGINE_CODES[k]: int(c)
                                                  for k, c in enumerate(counts) if c}))
        return out

    def route(self, lines: Sequence[str]) -> "Routing":
        """Who writes each character: the CNN where its word is sure, the BiLSTM where the CNN
        handed the word over and the BiLSTM settles it (sure of it, or agreeing with the CNN),
        the CNN again where it wrote the word as it was taught and is sure enough (``familiar``),
        liblouis for the rest, and for the words the indicator check sends it (``indicators``:
        letters that would read as a contraction, and numbers, whose ⠰ or ⠼ cells a model wrote
        otherwise than liblouis), for the words the novel-word check sends it (``novel``: a
        model's own guess at a word it was never shown, where liblouis writes it otherwise), and
        for the words whose capitals role hangs on letters outside ASCII
        (``capitals.uncertain_roles``; with the novel-word check, ``self.novel``, on or off)."""
        lengths = np.array([len(line) for line in lines], dtype=np.int64)
        tagged = self.primary.tag_lines(lines)
        engine = np.zeros(len(tagged.pred), dtype=np.int8)          # 0 cnn, 1 rnn, 2 louis
        cnn_word = word_minimum(tagged, lengths, self.space_id)
        unsure = cnn_word < self.thresholds["cnn"]
        offsets = np.r_[0, np.cumsum(lengths)]
        corrected = np.zeros_like(unsure)
        if self.matcher:   # words a correction rules on go to liblouis, which applies it
            for i, line in enumerate(lines):
                corrected[offsets[i]:offsets[i + 1]] = self._corrected(line)
            unsure &= ~corrected
        handed = unsure.copy()
        agreed = np.zeros_like(unsure)
        pred = tagged.pred.copy()
        second = np.full_like(tagged.pred, -1)
        second_conf = np.full(len(tagged.pred), -1.0, dtype=np.float32)
        line_of = np.repeat(np.arange(len(lines)), lengths)
        if unsure.any() and self.fallback is not None:
            redo = np.unique(line_of[unsure])
            sub = self.fallback.tag_lines([lines[i] for i in redo])
            # a chunk the BiLSTM knows but the CNN's vocabulary cannot write is no answer
            mapped = self.fallback_map[sub.pred]
            sub.conf = np.where(mapped == UNK_CHUNK, -1.0, sub.conf)
            sub_idx = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in redo])
            second[sub_idx] = mapped
            second_conf[sub_idx] = sub.conf
            sub_unsure = unsure_chars(sub, lengths[redo], self.thresholds["rnn"],
                                      self.fallback_space_id)
            # the same words, counting only where the BiLSTM writes what the CNN wrote (and,
            # with a CNN floor, only words whose least sure character the CNN holds above it)
            agreeing = mapped == tagged.pred[sub_idx]
            floor = self.thresholds.get("agree_cnn", 0.0)
            if floor > 0:
                agreeing &= cnn_word[sub_idx] >= floor
            same = np.where(agreeing, sub.conf, -1.0)
            sub_apart = unsure_chars(Tagged(sub.pred, same, sub.ids, sub.points), lengths[redo],
                                     self.thresholds.get("agree", 1.01), self.fallback_space_id)
            take = unsure[sub_idx] & ~sub_unsure
            by_agreement = unsure[sub_idx] & sub_unsure & ~sub_apart
            agreed[sub_idx[by_agreement]] = True
            take |= by_agreement
            pred[sub_idx[take]] = mapped[take]
            engine[sub_idx[take]] = 1
            unsure[sub_idx[take]] = False
        familiar = self._familiar(lines, tagged, lengths, offsets, cnn_word, unsure, corrected)
        unsure &= ~familiar
        engine[unsure | corrected] = 2
        indicator_to_louis = np.zeros_like(unsure)
        if self.indicators is not None:
            indicator_to_louis = self.indicators.mismatched(lines, pred, offsets, engine != 2)
            engine[indicator_to_louis] = 2
            familiar &= ~indicator_to_louis
        novel_asked = novel_to_louis = roles_to_louis = np.zeros_like(unsure)
        if self.novel is not None:
            novel_asked, novel_to_louis = self.novel.check(lines, pred, tagged.points, offsets,
                                                           engine != 2)
            engine[novel_to_louis] = 2
            # a word whose capitals role hangs on whether letters outside ASCII count (ΦΒΚ,
            # МОСКВА in a capitals passage): its capital indicators come from liblouis
            tables = self.louis.tables
            uncertain = uncertain_roles(lines, lambda ch: novel_undefined(tables, ch))
            roles_to_louis = whole_tokens(uncertain, tagged.points, offsets) & (engine != 2)
            engine[roles_to_louis] = 2
            familiar &= ~roles_to_louis
        return Routing(pred, engine, handed if self.fallback is not None else
                       np.zeros_like(handed), tagged.pred, agreed, second, tagged.conf,
                       second_conf, familiar, indicator_to_louis, novel_asked, novel_to_louis,
                       roles_to_louis, lengths, offsets, tagged.points, tagged.ids)

    def _familiar(self, lines: Sequence[str], tagged: Tagged, lengths: np.ndarray,
                  offsets: np.ndarray, cnn_word: np.ndarray, unsure: np.ndarray,
                  corrected: np.ndarray) -> np.ndarray:
        """Mask of the still unsure words the CNN keeps: those it holds at least as sure as the
        ``familiar`` threshold and wrote exactly as liblouis wrote the same token, in the same
        capitals role, in the training corpus (``familiar.py``); never a word a correction
        touches (liblouis applies it)."""
        kept = np.zeros_like(unsure)
        floor = self.thresholds.get("familiar", 1.01)
        if self.familiar is None or floor > 1.0 or not unsure.any():
            return kept
        starts, seg_len = _segments(tagged.ids, lengths, self.space_id)
        touched = np.maximum.reduceat(corrected.astype(np.int8), starts) > 0
        pick = (unsure[starts] & (cnn_word[starts] >= floor) & ~touched
                & (tagged.ids[starts] != self.space_id))
        starts, seg_len = starts[pick], seg_len[pick]
        written = self.primary.vocab.spans(tagged.pred, tagged.points, starts, seg_len)
        starts, seg_len = starts.tolist(), seg_len.tolist()
        text = "".join(lines)
        tokens = [text[s:s + n] for s, n in zip(starts, seg_len)]
        roles = token_roles(lines, offsets, starts, tokens)
        for s, n, known in zip(starts, seg_len,
                               self.familiar.contains(tokens, roles, written).tolist()):
            if known:
                kept[s:s + n] = True
        return kept

    def _corrected(self, line: str) -> np.ndarray:
        """Which characters of ``line`` are in a word or phrase a correction rules on."""
        mask = np.zeros(len(line), dtype=bool)
        if self.matcher:
            for a, b, _text in self.matcher.spans(line):
                mask[a:b] = True
        return mask

    def _splice(self, line: str, pred: np.ndarray, points: np.ndarray, unsure: np.ndarray,
                engine: np.ndarray) -> str:
        """liblouis translates the whole line; its chunks replace those of the unsure words."""
        try:
            _braille, chunks = align(line, self.louis.tables)
        except AlignmentError:
            engine[:] = 2
            return self.louis.translate_text(line)
        own = self.primary.vocab.chunks(pred, points)
        return "".join(chunks[j] if u else own[j] for j, u in enumerate(unsure.tolist()))


_taggers: dict[tuple[str, str], Tagger] = {}
_tag_lock = threading.Lock()


def model_dir() -> Path:
    """Where the engines look for checkpoints: the model_dir setting, else the shipped models."""
    from .. import config
    override = config.get("model_dir")
    return Path(override) if override else ckpt_mod.MODEL_DIR


def load_tagger(arch: str, table: str) -> Tagger:
    path = model_dir() / ckpt_mod.shipped_path(arch, table).name
    key = (str(path), arch)
    with _tag_lock:
        tagger = _taggers.get(key)
        if tagger is None:
            if not path.parent.is_dir():
                raise EngineError(f"no {arch} model for {table}: the model folder "
                                  f"{path.parent.resolve()} does not exist; set "
                                  "BRAILLEJOBS_MODEL_DIR to a folder of checkpoints, unset it "
                                  "to use the shipped models, or use --engine louis")
            if not path.exists():
                raise EngineError(f"no {arch} model for {table} ({path.name} not found in "
                                  f"{path.parent.resolve()}); use --engine louis, or train one "
                                  f"with `braillejobs train --arch {arch} --table {table}`")
            try:
                checkpoint = ckpt_mod.load(path)
            except ckpt_mod.CheckpointError as exc:
                raise EngineError(str(exc)) from None
            if checkpoint.table != table:
                fix = ("or unset BRAILLEJOBS_MODEL_DIR to use the shipped models"
                       if path.parent != ckpt_mod.MODEL_DIR else "or reinstall the package")
                raise EngineError(f"{path} is a model for {checkpoint.table}, not {table}: put "
                                  f"the {table} model there under that name, {fix}")
            from .. import config
            device = pick_device(config.get("device"))
            tagger = Tagger(checkpoint, device)
            log.info("loaded %s on %s", tagger.version, device)
            _taggers[key] = tagger
        return tagger


def build_engine(name: str, table: str, corrections=None) -> NeuralEngine:
    if name in ("cnn", "rnn"):
        return NeuralEngine(name, table, load_tagger(name, table), None, DEFAULT_THRESHOLDS,
                            corrections)
    cnn = load_tagger("cnn", table)
    rnn = load_tagger("rnn", table)
    calibrated = cnn.checkpoint.meta.get("thresholds", {})
    thresholds = {**DEFAULT_THRESHOLDS, **calibrated}
    from .. import config
    chosen = config.get("auto_thresholds")
    if chosen:   # the operator's routing over the calibrated one
        thresholds.update(chosen)
        log.info("auto for %s routes with %s (auto_thresholds over the calibrated %s)", table,
                 thresholds, calibrated)
    familiar = load_familiar(table)
    if familiar is None:
        # without the set no word is vouched for: the novel-word check asks liblouis for every
        # word a model writes (the same braille, more liblouis calls)
        (log.warning if thresholds.get("familiar", 1.01) <= 1.0 else log.info)(
            "auto for %s: there is no %s in %s: the familiar rule is off and every word a model "
            "writes is checked against liblouis (scripts/train_models.py --finish builds the set)",
            table, path_for(table).name, model_dir())
    return NeuralEngine("auto", table, cnn, rnn, thresholds, corrections, familiar)


_familiar_sets: dict[str, Familiar | None] = {}


def load_familiar(table: str) -> Familiar | None:
    """The set of the training corpus's tokens with their braille, shipped beside the models
    (read once per process and folder), or None where there is none."""
    path = path_for(table, model_dir())
    with _tag_lock:
        if str(path) not in _familiar_sets:
            _familiar_sets[str(path)] = Familiar.load(path)
        return _familiar_sets[str(path)]
