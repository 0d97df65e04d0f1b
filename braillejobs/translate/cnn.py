"""The convolutional tagger: embedding, residual dilated Conv1d blocks, a linear layer over chunks.

It knows nothing of training or of files: a config dataclass in, logits out. Every block sees
``(kernel - 1) * dilation / 2`` more characters on each side; the presets stack dilations so that
the receptive field covers a word and its neighbours (contractions) and more (numeric mode).

With ``capital_roles`` the input ids also carry each character's role in a run of capitalised
words (``capitals``), added as a second embedding: what decides UEB's capitals passages lies
beyond any window, so the context can stay short and the model cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .capitals import N_ROLES


@dataclass(frozen=True)
class CNNConfig:
    n_chars: int
    n_chunks: int
    channels: int = 256
    embed: int = 64
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4, 8, 16)
    dropout: float = 0.05
    capital_roles: bool = False    # input ids carry capitals.with_roles

    @property
    def receptive_field(self) -> int:
        """Characters of context on each side of a position."""
        return sum((self.kernel - 1) // 2 * d for d in self.dilations)

    @property
    def flops_per_char(self) -> int:
        """Multiply-adds of one character's forward pass, times two (norms and GELUs aside)."""
        c = self.channels
        macs = self.embed * c + len(self.dilations) * (self.kernel + 1) * c * c + c * self.n_chunks
        return 2 * macs

    def to_dict(self) -> dict:
        """The config as stored; fields added after the first release are written only when they
        differ from their default, so earlier checkpoints keep their content hash."""
        data = asdict(self)
        for name, default in _LATER_FIELDS.items():
            if data[name] == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CNNConfig":
        data = dict(data)
        data["dilations"] = tuple(data["dilations"])
        return cls(**data)


_LATER_FIELDS = {"capital_roles": False}

CNN_PRESETS: dict[str, dict] = {
    # tiny: tests and smoke runs
    "tiny": dict(channels=32, embed=16, dilations=(1, 2, 4, 1, 2, 4)),
    # cpu: what a 2-core machine trains in a few hours
    "cpu": dict(channels=128, embed=48, dilations=(1, 2, 4, 8, 16, 1, 2, 4)),
    # base: the shipped model, trained on one GPU
    "base": dict(channels=256, embed=64, dilations=(1, 2, 4, 8, 16, 1, 2, 4, 8, 16)),
    # large: more capacity for a longer GPU run
    "large": dict(channels=320, embed=64, dilations=(1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 1)),
    # cheap: <= 3 MFLOP a character (the GPU budget; on a 2-core CPU it trains at ~20 k chars/s
    # and translates ~5x faster than large), capital roles instead of a long context
    "cheap": dict(channels=128, embed=48, kernel=3, capital_roles=True,
                  dilations=(1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 1)),
    # the same without capital roles (to measure what they bring)
    "cheap-plain": dict(channels=128, embed=48, kernel=3,
                        dilations=(1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 1)),
}


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation,
                              padding=(kernel - 1) // 2 * dilation)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(self.act(self.norm(x)))
        y = self.mix(self.act(y))
        return x + self.drop(y)


class CNNTagger(nn.Module):
    arch = "cnn"

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.n_chars, config.embed, padding_idx=0)
        self.roles = (nn.Embedding(N_ROLES, config.embed, padding_idx=0)
                      if config.capital_roles else None)
        self.inp = nn.Conv1d(config.embed, config.channels, 1)
        self.blocks = nn.ModuleList(
            ResidualBlock(config.channels, config.kernel, d, config.dropout)
            for d in config.dilations)
        self.norm = nn.BatchNorm1d(config.channels)
        self.out = nn.Conv1d(config.channels, config.n_chunks, 1)

    @property
    def context(self) -> int:
        return self.config.receptive_field

    def top(self, blocks: int) -> list[nn.Parameter]:
        """The parameters of the last ``blocks`` residual blocks, the final normalisation and
        the output layer: what a fine-tune that keeps the rest of the model learns."""
        if not 0 <= blocks <= len(self.blocks):
            raise ValueError(f"the model has {len(self.blocks)} residual blocks, not {blocks}")
        parts = [*list(self.blocks)[len(self.blocks) - blocks:], self.norm, self.out]
        return [p for part in parts for p in part.parameters()]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [batch, length] -> logits [batch, length, n_chunks]. With capital roles, the ids
        are packed by ``capitals.with_roles``."""
        pad = (ids == 0).unsqueeze(1)
        if self.roles is not None:
            n = self.config.n_chars
            x = self.embed(ids % n) + self.roles(ids // n)
        else:
            x = self.embed(ids)
        x = self.inp(x.transpose(1, 2))
        if not bool(pad.any()):   # windows inside a stream (nearly all) hold no padding
            pad = None
        for block in self.blocks:
            x = block(x)
            if pad is not None:
                x = x.masked_fill(pad, 0.0)   # padding stays silent at every depth
        return self.out(torch.nn.functional.gelu(self.norm(x))).transpose(1, 2)
