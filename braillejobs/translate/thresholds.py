"""The auto chain's routing thresholds: their names, the defaults of an uncalibrated checkpoint,
and the ``NAME=VALUE,...`` form in which an operator or an evaluation overrides the calibrated
ones.

- ``cnn``: a word is the CNN's when its least sure character is at least this sure;
- ``rnn``: a word the CNN hands over is the BiLSTM's when the BiLSTM is at least this sure of it;
- ``agree``: ... or when the BiLSTM writes it exactly as the CNN did and is at least this sure;
- ``agree_cnn``: agreement settles only words the CNN holds at least this sure;
- ``familiar``: a word neither settles stays the CNN's when the CNN writes it as liblouis wrote
  the same token in the training corpus (see ``familiar.py``) and holds it at least this sure.

A value above 1 turns its rule off (1.01 by convention); liblouis writes what no rule settles.
The defaults keep the routing of checkpoints calibrated before a rule existed: ``agree`` off,
``agree_cnn`` 0 (no floor), ``familiar`` off.
"""

from __future__ import annotations

DEFAULT_THRESHOLDS = {"cnn": 0.97, "rnn": 0.97, "agree": 1.01, "agree_cnn": 0.0,
                      "familiar": 1.01}


def parse_thresholds(text: str) -> dict[str, float]:
    """``"cnn=0.999,agree=0.3"`` as a dict; ValueError naming the part that is wrong."""
    chosen: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, number = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_THRESHOLDS:
            raise ValueError(f"{name!r} is not a threshold; give NAME=VALUE,... with NAME one of "
                             f"{', '.join(DEFAULT_THRESHOLDS)}")
        try:
            value = float(number)        # "" (no "=") is no number either
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.01:
            raise ValueError(f"{part.strip()!r}: the value of {name} must be a number from 0 to "
                             "1.01 (above 1: the rule is off), e.g. cnn=0.999")
        chosen[name] = value
    return chosen
