"""Checkpoints that carry everything needed to use them: architecture, config, vocabularies, table,
corpus digest, evaluation figures and the weights (stored in half precision for shipping).

Training state (optimizer, step, random state) lives in a separate resume file, so a shipped model
is only what inference needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .cnn import CNN_PRESETS, CNNConfig, CNNTagger
from .rnn import RNN_PRESETS, RNNConfig, RNNTagger
from .vocab import Vocab

FORMAT_VERSION = 1
ARCHS = {"cnn": (CNNConfig, CNNTagger, CNN_PRESETS), "rnn": (RNNConfig, RNNTagger, RNN_PRESETS)}
MODEL_DIR = Path(__file__).resolve().parent.parent / "weights"


class CheckpointError(RuntimeError):
    """A checkpoint is missing or unreadable; the message names the file and what to do."""


@dataclass
class Checkpoint:
    arch: str
    config: Any
    vocab: Vocab
    table: str
    state_dict: dict
    meta: dict = field(default_factory=dict)

    def build_model(self, device: str | torch.device = "cpu") -> torch.nn.Module:
        _cfg, model_cls, _presets = ARCHS[self.arch]
        model = model_cls(self.config)
        model.load_state_dict({k: v.float() for k, v in self.state_dict.items()})
        return model.to(device).eval()

    @property
    def version(self) -> str:
        """A short content hash: changes whenever weights, vocabularies or config change."""
        h = hashlib.sha256()
        h.update(repr((self.arch, self.config.to_dict(), self.table)).encode())
        h.update(repr(self.vocab.to_dict()).encode())
        for k in sorted(self.state_dict):
            h.update(k.encode())
            h.update(self.state_dict[k].cpu().numpy().tobytes())
        return f"{self.arch}-{self.table.split('.')[0]}-{h.hexdigest()[:12]}"


def make_config(arch: str, preset: str, vocab: Vocab):
    if arch not in ARCHS:
        raise CheckpointError(f"unknown architecture {arch!r}: choose cnn or rnn")
    cfg_cls, _model, presets = ARCHS[arch]
    if preset not in presets:
        raise CheckpointError(f"unknown preset {preset!r} for {arch}: choose one of "
                              f"{', '.join(presets)}")
    return cfg_cls(n_chars=vocab.n_chars, n_chunks=vocab.n_chunks, **presets[preset])


def save(path: Path, model: torch.nn.Module, vocab: Vocab, table: str, meta: dict,
         half: bool = True) -> Checkpoint:
    state = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    ckpt = Checkpoint(model.arch, model.config, vocab, table, state, dict(meta))
    payload = {
        "format_version": FORMAT_VERSION,
        "arch": ckpt.arch,
        "config": ckpt.config.to_dict(),
        "vocab": vocab.to_dict(),
        "table": table,
        "meta": ckpt.meta,
        "state_dict": state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never a half-written checkpoint
    return ckpt


def load(path: Path) -> Checkpoint:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint; train one with `braillejobs train`")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise CheckpointError(f"{path}: not a readable braillejobs checkpoint ({exc}); "
                              "re-train or re-install the package") from None
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {payload.get('format_version')} is not "
                              f"{FORMAT_VERSION}; re-train it with this version")
    cfg_cls = ARCHS[payload["arch"]][0]
    return Checkpoint(payload["arch"], cfg_cls.from_dict(payload["config"]),
                      Vocab.from_dict(payload["vocab"]), payload["table"],
                      payload["state_dict"], payload.get("meta", {}))


def shipped_path(arch: str, table: str) -> Path:
    return MODEL_DIR / f"{arch}-{table.removesuffix('.ctb')}.pt"

