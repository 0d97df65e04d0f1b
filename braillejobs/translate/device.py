"""Where the neural engines run: the torch device a setting names, and whether a CPU computes
bf16 natively. Light: torch only, so that training can ask without the runtime engines."""

from __future__ import annotations

import logging

import torch

from .engine import EngineError

log = logging.getLogger("braillejobs.neural")


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        log.info("no CUDA device found: the neural engines run on the CPU")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise EngineError(f"unknown device {requested!r} (BRAILLEJOBS_DEVICE or --device): "
                          "use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EngineError(f"device {requested!r} asked for, but no CUDA device is available; "
                          "set BRAILLEJOBS_DEVICE=cpu or auto")
    return device


def cuda_present() -> bool:
    """Whether this process can use a CUDA device (the one probe the default engine asks)."""
    return torch.cuda.is_available()


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AMX or AVX-512 BF16)."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(probe and probe())
