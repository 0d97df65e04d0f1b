"""The k-fold script's prose report: which held-out lines a fine-tune lost and gained."""

import importlib.util
import json
from pathlib import Path

from braillejobs.translate.louis_engine import LouisEngine

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "corrections_kfold.py"


def _script():
    spec = importlib.util.spec_from_file_location("corrections_kfold", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lost_and_gained_lines_name_the_first_word_that_differs(tmp_path):
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
    path = tmp_path / "changes.jsonl"          # what --taught writes for each fold
    assert held.record_changes(before, after, clean, path) == (1, 1)
    assert [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] == changes


def test_prose_is_scored_on_the_half_the_blend_never_saw(tmp_path):
    """The fine-tunes are blended back on the tuning half of the held-out split (train
    --keep-prose); the k-fold scores prose on the other half, spread over it when limited."""
    from braillejobs.translate.training.evaluate import halves

    kfold = _script()
    path = tmp_path / "heldout.txt"
    lines = [f"line number {i}" for i in range(40)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tune, evaluation = halves(lines)
    assert kfold.evaluation_lines(path, 0) == evaluation and not set(tune) & set(evaluation)
    few = kfold.evaluation_lines(path, 5)
    assert len(few) == 5 and set(few) <= set(evaluation) and few[-1] != evaluation[4]
    assert kfold.evaluation_lines(tmp_path / "missing.txt", 0) == []
