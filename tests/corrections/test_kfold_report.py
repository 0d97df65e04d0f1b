"""The k-fold script's prose report: which held-out lines a fine-tune lost and gained."""

import importlib.util
from pathlib import Path

from braillejobs.translate.louis_engine import LouisEngine

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "corrections_kfold.py"


def _script():
    spec = importlib.util.spec_from_file_location("corrections_kfold", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lost_and_gained_lines_name_the_first_word_that_differs():
    kfold = _script()
    lines = ["the knowledge of the house", "overfull as with blood", "a plain line"]
    held = kfold.HeldOut(lines, LouisEngine("en-ueb-g2.ctb"))
    ref = held.reference
    broken = ref[1].replace(ref[1].split(kfold.BLANK)[0], "⠠⠻", 1)   # a word written wrong
    other = ref[0] + "⠲"                                              # a cell added at the end
    clean = [0, 1, 2]
    before = [other, ref[1], ref[2]]      # the start had line 0 wrong, the rest right
    after = [ref[0], broken, ref[2]]      # the fine-tune has line 1 wrong, the rest right
    changes = held.changes(before, after, clean)
    assert [c["change"] for c in changes] == ["gained", "lost"]
    gained, lost = changes
    assert lost["line"] == lines[1] and lost["word"] == "overfull"
    assert lost["liblouis"] == ref[1].split(kfold.BLANK)[0] and lost["written"] == "⠠⠻"
    assert gained["word"] == "house" and gained["written"].endswith("⠲")
    assert held.score(after, clean) == held.score(before, clean) == 2 / 3
    assert held.changes(after, after, clean) == []
