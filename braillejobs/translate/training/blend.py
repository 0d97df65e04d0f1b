"""Blending a fine-tuned model's weights back toward the model it started from, as far as it
takes for the blend to write held-out prose as well as the start did.

A fine-tune on the transcribers' corrections learns them at some cost to everything else (the
reader's ordinary prose). The weights on the straight line between the start and the fine-tune
trade one for the other; scoring a few points of that line on held-out lines takes seconds,
where another fine-tune with a stronger anchor takes an hour, and reaches the same trade (README,
the k-fold). The blend kept is the one nearest the fine-tune whose prose has not fallen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .. import checkpoint as ckpt_mod
from .evaluate import exact_share

# Weights of the fine-tune tried, nearest it first; 0 is the start itself, which always passes.
GRID = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)


def blend(start: dict, tuned: dict, weight: float) -> dict:
    """``start + weight * (tuned - start)`` for every floating-point tensor (computed in fp32);
    any other tensor (a step counter) is the fine-tune's."""
    out = {}
    for key, value in tuned.items():
        if value.is_floating_point():
            s = start[key].float()
            out[key] = s + weight * (value.float() - s)
        else:
            out[key] = value
    return out


def keep_prose(start: dict, tuned: ckpt_mod.Checkpoint, lines: Sequence[str],
               refs: Sequence[str], device: torch.device, grid: Sequence[float] = GRID,
               progress: Callable[[dict], None] | None = None) -> tuple[dict, dict]:
    """The blend of ``start`` (a state dict shaped as the fine-tune's) and ``tuned`` nearest the
    fine-tune that writes at least as many of ``lines`` as ``refs`` as the start does, and what
    was measured: the weight kept, the start's share, the fine-tune's and the blend's."""

    def scored(weight: float) -> tuple[dict, float]:
        state = blend(start, tuned.state_dict, weight)
        half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        ckpt = ckpt_mod.Checkpoint(tuned.arch, tuned.config, tuned.vocab, tuned.table, half,
                                   tuned.meta)
        share = exact_share(ckpt, lines, refs, device)
        if progress:
            progress({"phase": "blend", "weight": weight, "exact": share})
        return state, share

    _state, floor = scored(0.0)
    tried = {}
    for weight in grid:
        state, share = scored(weight) if weight else (_state, floor)
        tried[str(weight)] = share
        if share >= floor:
            break
    return state, {"weight": weight, "lines": len(lines), "start": floor,
                   "tuned": tried[str(grid[0])], "kept": share, "tried": tried}
