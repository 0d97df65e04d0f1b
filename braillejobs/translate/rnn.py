"""The recurrent fallback: a BiLSTM tagger with the same vocabularies and interface as the CNN.

A bidirectional LSTM sees the whole window on both sides, so it handles what needs long context
(capital passages, numeric mode over long numbers) differently from the CNN's fixed receptive
field; its errors are less correlated with the CNN's, which is what a fallback wants.

With ``capital_roles`` its input also carries each character's role in a run of capitalised words
(``capitals``), as the cheap CNN's does: the fallback that ``auto`` hands a capital passage to is
told what the CNN is told.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .capitals import N_ROLES


@dataclass(frozen=True)
class RNNConfig:
    n_chars: int
    n_chunks: int
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1
    capital_roles: bool = False    # input ids carry capitals.with_roles

    @property
    def receptive_field(self) -> int:
        return 10**9  # unbounded in principle; the engine gives it the whole window

    def to_dict(self) -> dict:
        """The config as stored; fields added after the first release are written only when they
        differ from their default, so earlier checkpoints keep their content hash."""
        data = asdict(self)
        for name, default in _LATER_FIELDS.items():
            if data[name] == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RNNConfig":
        return cls(**data)


_LATER_FIELDS = {"capital_roles": False}

RNN_PRESETS: dict[str, dict] = {
    "tiny": dict(embed=16, hidden=32, layers=1),
    "cpu": dict(embed=48, hidden=128, layers=2),
    "base": dict(embed=64, hidden=256, layers=2),
    "large": dict(embed=64, hidden=320, layers=3),
    # fallback: the cheap CNN's partner, small enough to train on a 2-core CPU, capital roles
    "fallback": dict(embed=48, hidden=128, layers=2, capital_roles=True),
}


class RNNTagger(nn.Module):
    arch = "rnn"

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.n_chars, config.embed, padding_idx=0)
        self.roles = (nn.Embedding(N_ROLES, config.embed, padding_idx=0)
                      if config.capital_roles else None)
        self.lstm = nn.LSTM(config.embed, config.hidden, num_layers=config.layers,
                            batch_first=True, bidirectional=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.out = nn.Linear(2 * config.hidden, config.n_chunks)

    @property
    def context(self) -> int:
        return 128  # margin the engine keeps around each window

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [batch, length] -> logits [batch, length, n_chunks]. With capital roles, the ids
        are packed by ``capitals.with_roles``."""
        if self.roles is not None:
            n = self.config.n_chars
            x = self.embed(ids % n) + self.roles(ids // n)
        else:
            x = self.embed(ids)
        x, _ = self.lstm(x)
        return self.out(x)
