"""The recurrent fallback: a BiLSTM tagger with the same vocabularies and interface as the CNN.

A bidirectional LSTM sees the whole window on both sides, so it handles what needs long context
(capital passages, numeric mode over long numbers) differently from the CNN's fixed receptive
field; its errors are less correlated with the CNN's, which is what a fallback wants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class RNNConfig:
    n_chars: int
    n_chunks: int
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1

    @property
    def receptive_field(self) -> int:
        return 10**9  # unbounded in principle; the engine gives it the whole window

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RNNConfig":
        return cls(**data)


RNN_PRESETS: dict[str, dict] = {
    "tiny": dict(embed=16, hidden=32, layers=1),
    "cpu": dict(embed=48, hidden=128, layers=2),
    "base": dict(embed=64, hidden=256, layers=2),
    "large": dict(embed=64, hidden=320, layers=3),
}


class RNNTagger(nn.Module):
    arch = "rnn"

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.n_chars, config.embed, padding_idx=0)
        self.lstm = nn.LSTM(config.embed, config.hidden, num_layers=config.layers,
                            batch_first=True, bidirectional=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.out = nn.Linear(2 * config.hidden, config.n_chunks)

    @property
    def context(self) -> int:
        return 128  # margin the engine keeps around each window

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [batch, length] -> logits [batch, length, n_chunks]."""
        x, _ = self.lstm(self.embed(ids))
        return self.out(x)
