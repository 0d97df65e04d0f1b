"""The convolutional tagger: embedding, residual dilated Conv1d blocks, a linear layer over chunks.

It knows nothing of training or of files: a config dataclass in, logits out. Every block sees
``(kernel - 1) * dilation / 2`` more characters on each side; the presets stack dilations so that
the receptive field covers a word and its neighbours (contractions) and more (capital and numeric
modes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CNNConfig:
    n_chars: int
    n_chunks: int
    channels: int = 256
    embed: int = 64
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4, 8, 16)
    dropout: float = 0.05

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
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CNNConfig":
        data = dict(data)
        data["dilations"] = tuple(data["dilations"])
        return cls(**data)


CNN_PRESETS: dict[str, dict] = {
    # tiny: tests and smoke runs
    "tiny": dict(channels=32, embed=16, dilations=(1, 2, 4, 1, 2, 4)),
    # cpu: what a 2-core machine trains in a few hours
    "cpu": dict(channels=128, embed=48, dilations=(1, 2, 4, 8, 16, 1, 2, 4)),
    # base: the shipped model, trained on one GPU
    "base": dict(channels=256, embed=64, dilations=(1, 2, 4, 8, 16, 1, 2, 4, 8, 16)),
    # large: more capacity for a longer GPU run
    "large": dict(channels=320, embed=64, dilations=(1, 2, 4, 8, 16, 32, 1, 2, 4, 8, 16, 1)),
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
        self.inp = nn.Conv1d(config.embed, config.channels, 1)
        self.blocks = nn.ModuleList(
            ResidualBlock(config.channels, config.kernel, d, config.dropout)
            for d in config.dilations)
        self.norm = nn.BatchNorm1d(config.channels)
        self.out = nn.Conv1d(config.channels, config.n_chunks, 1)

    @property
    def context(self) -> int:
        return self.config.receptive_field

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [batch, length] -> logits [batch, length, n_chunks]."""
        pad = (ids == 0).unsqueeze(1)
        x = self.inp(self.embed(ids).transpose(1, 2))
        for block in self.blocks:
            x = block(x).masked_fill(pad, 0.0)   # padding stays silent at every depth
        return self.out(torch.nn.functional.gelu(self.norm(x))).transpose(1, 2)
