"""Chunk ids to braille on the tagger's device: the output path of the ``cnn`` and ``rnn`` engines.

The same arithmetic as ``Vocab.decode_many``, in torch, so that on a GPU the chunk ids never
leave it: the device gathers every position's cells from the vocabulary's flat table, and only
the cells (two bytes each) and one cut point per line come back to the host, which decodes them
as UTF-16 in one call. Escapes are rare: the device leaves room for them and the host spells
them from their code points (``vocab.write_escapes``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .chunks import ESCAPE_LENGTHS
from .vocab import Vocab, write_escapes


class DeviceDecoder:
    """A vocabulary's decoding tables, copied once to a device."""

    def __init__(self, vocab: Vocab, device: torch.device):
        self.device = device
        self.escape_id = vocab.escape_id
        # braille cells lie below U+8000: int16 holds them, and torch gathers int16 everywhere
        self.flat = torch.from_numpy(vocab.flat.view(np.int16)).to(device)
        self.start = torch.from_numpy(vocab.start).to(device)
        self.length = torch.from_numpy(vocab.length).to(device)

    def decode(self, pred: torch.Tensor, points: torch.Tensor,
               lengths: Sequence[int]) -> list[str]:
        """Braille of each line: ``pred`` and ``points`` (on the device) are the chunk ids and
        code points of the lines' concatenation, ``lengths`` the lines' sizes."""
        bounds = np.concatenate([[0], np.cumsum(np.fromiter(lengths, dtype=np.int64))])
        if len(bounds) == 1:
            return []
        length = self.length[pred]
        escapes = torch.nonzero(pred == self.escape_id).flatten()   # none when it is -1
        if len(escapes):
            length[escapes] = _escape_lengths(points[escapes])
        ends = torch.cumsum(length, 0)
        firsts = ends - length
        total = int(ends[-1]) if len(ends) else 0           # waits for the device
        source = torch.repeat_interleave(self.start[pred] - firsts, length, output_size=total)
        source += torch.arange(total, device=self.device)
        cells = self.flat[source].cpu().numpy().view(np.uint16)
        cut = torch.cat([ends.new_zeros(1), ends])[torch.from_numpy(bounds).to(self.device)]
        cut = cut.tolist()
        if len(escapes):
            write_escapes(cells, firsts[escapes].cpu().numpy(), points[escapes].cpu().numpy())
        text = cells.tobytes().decode("utf-16-le")
        return [text[a:b] for a, b in zip(cut, cut[1:])]


def _escape_lengths(points: torch.Tensor) -> torch.Tensor:
    out = torch.full_like(points, ESCAPE_LENGTHS[-1][1], dtype=torch.int64)
    for limit, n in reversed(ESCAPE_LENGTHS[:-1]):
        out = torch.where(points <= limit, n, out)
    return out
