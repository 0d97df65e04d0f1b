"""Words as the teacher wrote them: the set of the training corpus's tokens with their capitals
role and liblouis's braille for them, and the auto chain's ``familiar`` rule on the shipped
models."""

from __future__ import annotations

import numpy as np
import pytest

from braillejobs.translate import familiar as fam
from braillejobs.translate.training import familiar_set
from braillejobs.translate.louis_engine import LouisEngine
from braillejobs.translate.neural import NeuralEngine, load_tagger
from braillejobs.translate.thresholds import parse_thresholds
from braillejobs.translate.training import evaluate as ev

G2 = "en-ueb-g2.ctb"
GOLDEN = {("braille", 0, "⠃⠗⠇"): 2247434933,             # blake2b, 4 bytes, little-endian
          ("Dvořák", 0, "⠠⠙⠧⠕⠘⠬⠗⠘⠌⠁⠅"): 2676172715,
          ("HELLO", 4, "⠓⠑⠇⠇⠕"): 3625734055}


def _set(lines):
    return fam.Familiar(familiar_set.build(lines, G2)[0])


@pytest.fixture(scope="module")
def taggers():
    return load_tagger("cnn", G2), load_tagger("rnn", G2)


def test_the_set_holds_each_token_in_its_role_with_the_braille_liblouis_wrote_for_it():
    hashes, skipped = familiar_set.build(["The cat sat.", "a  (cat)", "", "WE SAY HELLO NOW",
                                 "Hello HELLO"], G2)
    assert skipped == 0
    assert hashes.dtype == np.uint32 and list(hashes) == sorted(set(hashes.tolist()))
    known = fam.Familiar(hashes)
    assert len(known) == 11       # The cat sat. a (cat) WE SAY HELLO NOW Hello HELLO
    cases = [("cat", 0, "⠉⠁⠞", True), ("(cat)", 0, "⠐⠣⠉⠁⠞⠐⠜", True), ("sat.", 0, "⠎⠁⠞⠲", True),
             ("sat", 0, "⠎⠁⠞", False), ("The", 0, "⠠⠮", True), ("the", 0, "⠮", False),
             ("cat", 0, "⠉⠁⠞⠞", False),
             ("HELLO", 4, "⠓⠑⠇⠇⠕", True),           # inside a capitals passage
             ("HELLO", 1, "⠠⠠⠓⠑⠇⠇⠕", True),         # a capitalised word on its own
             ("HELLO", 4, "⠠⠠⠓⠑⠇⠇⠕", False),        # liblouis's braille, but not in this role
             ("HELLO", 1, "⠓⠑⠇⠇⠕", False), ("HELLO", 0, "⠠⠓⠑⠇⠇⠕", False)]
    tokens, roles, brailles, want = zip(*cases)
    assert known.contains(tokens, roles, brailles).tolist() == list(want)
    assert fam.Familiar(np.zeros(0, np.uint32)).contains(["cat"], [0], ["⠉⠁⠞"]).tolist() == [
        False]


def test_a_token_is_paired_with_its_role_and_its_own_cells():
    assert fam.line_pairs("WE SAY HELLO NOW", G2) == [
        ("WE", 3, "⠠⠠⠠⠺⠑"), ("SAY", 4, "⠎⠁⠽"), ("HELLO", 4, "⠓⠑⠇⠇⠕"), ("NOW", 5, "⠝⠪⠠⠄")]
    assert fam.line_pairs("Hello  HELLO ", G2) == [("Hello", 0, "⠠⠓⠑⠇⠇⠕"),
                                                   ("HELLO", 1, "⠠⠠⠓⠑⠇⠇⠕")]


def test_the_set_is_the_same_built_in_several_processes(monkeypatch):
    monkeypatch.setattr(familiar_set, "SHARD_LINES", 3)     # several shards from a few lines
    lines = ["The cat sat.", "a  (cat)", "WE SAY HELLO NOW", "Hello HELLO", "12 34",
             "between betweeen", "x"]
    done: list[int] = []
    alone, _ = familiar_set.build(lines, G2)
    shared, skipped = familiar_set.build(lines, G2, workers=2, progress=done.append)
    assert skipped == 0 and alone.tolist() == shared.tolist() and done == [3, 6, 7]


def test_the_hash_is_stable_across_processes_and_machines():
    # blake2b, not Python's salted hash(): a set built on one machine serves every other
    for key, value in GOLDEN.items():
        assert fam.pair_hash(*key) == value
    assert fam.pair_hash("\ud800", 0, "⠿") != fam.pair_hash("?", 0, "⠿")   # lone surrogates too
    assert fam.pair_hash("ab", 0, "⠁") != fam.pair_hash("a", 0, "b⠁")     # the parts stay apart
    # the batch form, which lookups use, gives the same hashes
    tokens, roles, brailles = zip(*GOLDEN)
    assert fam.pair_hashes(tokens, roles, brailles).tolist() == list(GOLDEN.values())


def test_the_shipped_set_is_there_and_loads(tmp_path):
    shipped = fam.Familiar.load(fam.path_for(G2))
    assert shipped is not None and len(shipped) > 100_000
    assert shipped.contains(["the", "Braille", "betweeen"], [0, 0, 0],
                            ["⠮", "⠠⠃⠗⠇", "⠆⠞⠺⠑⠑⠢"]).all()
    assert not shipped.contains(["betweeen"], [0], ["⠆⠞"]).any()   # a typo is not its shortform
    assert fam.Familiar.load(fam.path_for(G2, tmp_path)) is None


def test_an_unreadable_set_leaves_the_rule_off_and_says_which_file(tmp_path, caplog):
    junk, floats, empty, bundle = (tmp_path / f"{n}.npy"
                                   for n in ("junk", "floats", "empty", "bundle"))
    junk.write_bytes(b"not an array")
    np.save(floats, np.zeros(3))
    empty.write_bytes(b"")
    with bundle.open("wb") as f:
        np.savez(f, np.zeros(3, np.uint32))
    with caplog.at_level("WARNING", logger="braillejobs.familiar"):
        for path in (junk, floats, empty, bundle):
            assert fam.Familiar.load(path) is None
            assert str(path) in caplog.text
    assert "train_models.py --finish" in caplog.text


def _chain(taggers, familiar, floor):
    # every word handed over (cnn 1.01) and none settled by the BiLSTM: only the familiar rule
    # keeps a word from liblouis
    return NeuralEngine("auto", G2, taggers[0], taggers[1],
                        {"cnn": 1.01, "rnn": 1.01, "agree": 1.01, "familiar": floor},
                        familiar=familiar)


def test_the_cnn_keeps_the_words_it_writes_as_taught_and_liblouis_writes_the_rest(taggers):
    lines = ["The cat sat on the mat.", "Zyzzogeton quux"]
    known = _set(["The cat on mat."])                      # "sat" and "the" never in training
    r = _chain(taggers, known, 0.0).route(lines)
    kept = [lines[0][i] for i in np.flatnonzero(r.familiar[:len(lines[0])])]
    assert "".join(kept) == "Thecatonmat."
    assert (r.engine[r.familiar] == 0).all() and not r.familiar[len(lines[0]):].any()
    assert (r.engine[len(lines[0]):][np.array(list(lines[1])) != " "] == 2).all()
    # a token the corpus held only in another capitals role is not kept, whatever the CNN
    # writes for it here; in the same role with the same braille it is
    alone, passage = ["Hello HELLO there"], ["WE SAY HELLO NOW"]
    assert not _chain(taggers, _set(passage), 0.0).route(alone).familiar[6:11].any()
    assert _chain(taggers, _set(["HELLO"]), 0.0).route(alone).familiar[6:11].all()
    assert not _chain(taggers, _set(alone), 0.0).route(passage).familiar[7:12].any()
    assert _chain(taggers, _set(["THEY SAY HELLO NOW"]), 0.0).route(passage).familiar[7:12].all()
    # off by the threshold, or without a set: liblouis writes every handed word
    for engine in (_chain(taggers, known, 1.01), _chain(taggers, None, 0.0)):
        assert not engine.route(lines).familiar.any()
    # the floor is on the CNN's least sure character of the word: between the least sure and
    # the surest of the words in the set, exactly those at or above it are kept
    tagged = taggers[0].tag_lines(lines[:1])
    taught = r.familiar[:len(lines[0])]
    words = [(0, 3), (4, 7), (8, 11), (12, 14), (15, 18), (19, 23)]   # The cat sat on the mat.
    least = [float(tagged.conf[a:b].min()) for a, b in words]
    set_least = sorted(least[k] for k in (0, 1, 3, 5))
    floor = (set_least[0] + set_least[-1]) / 2               # between the least and surest of them
    r_floor = _chain(taggers, known, floor).route(lines).familiar[:len(lines[0])]
    for (a, b), sure in zip(words, least):
        assert r_floor[a:b].all() == (bool(taught[a]) and sure >= floor)
    assert r_floor.sum() < taught.sum()


def test_kept_words_are_written_as_the_cnn_writes_them_and_counted(taggers):
    lines = ["The cat sat on the mat.", "Gorillas and the cat."]
    known = _set(lines)
    engine = _chain(taggers, known, 0.0)
    cnn_alone = NeuralEngine("cnn", G2, taggers[0], None, {})
    assert [t.braille for t in engine.translate_lines(lines)] == [
        t.braille for t in cnn_alone.translate_lines(lines)]
    report = ev.routing_report(engine, lines)
    assert report["kept_as_familiar"] == 10 and report["settled_by_rnn"] == 0
    assert report["familiar_right"] == report["kept_as_familiar"]     # simple prose


def test_the_rule_is_on_as_shipped_and_the_operator_can_turn_it_off():
    from braillejobs.translate.neural import build_engine
    from tests.support import settings

    assert parse_thresholds("familiar=0.95") == {"familiar": 0.95}
    shipped = load_tagger("cnn", G2).checkpoint.meta["thresholds"]["familiar"]
    assert 0 < shipped <= 1                        # the floor the release sweep chose
    engine = build_engine("auto", G2)
    assert engine.thresholds["familiar"] == shipped and engine.familiar is not None
    with settings(auto_thresholds="familiar=1.01"):
        assert build_engine("auto", G2).thresholds["familiar"] > 1


def test_a_word_a_correction_touches_or_the_indicator_check_sends_on_is_not_kept(taggers):
    from braillejobs.translate.training.evaluate import routing_report

    lines = ["We wrote alr on the card, 154 times."]
    known = _set(lines)
    engine = _chain(taggers, known, 0.0)
    r = engine.route(lines)
    assert not (r.familiar & r.indicator_to_louis).any()
    assert (r.engine[r.familiar] == 0).all()
    report = routing_report(engine, lines)
    assert report["kept_as_familiar"] == report["familiar_right"]
    corrected = np.zeros(len(lines[0]), dtype=bool)
    corrected[3:8] = True                                     # "wrote" is corrected
    kept = engine._familiar(lines, taggers[0].tag_lines(lines), np.array([len(lines[0])]),
                            np.array([0, len(lines[0])]), np.ones(len(lines[0])),
                            np.ones(len(lines[0]), dtype=bool), corrected)
    assert not kept[3:8].any() and kept[:2].all()


def test_the_familiar_sweep_matches_fresh_runs_and_prefers_accuracy(taggers):
    lines = ["The cat sat on the mat.", "HIS MARIJUANA STUCK to the Southend pier.", "Dvořák"]
    known = _set(lines)
    chosen = {"cnn": 0.999, "rnn": 0.999, "agree": 1.01, "agree_cnn": 0.0}
    result = ev.calibrate_familiar(taggers[0], taggers[1], lines, chosen, known,
                                   grid=(1.01, 0.0))
    assert [p["familiar"] for p in result["curve"]] == [1.01, 0.0]
    refs = [LouisEngine(G2).translate_text(line) for line in lines]
    for point in result["curve"]:
        engine = NeuralEngine("auto", G2, taggers[0], taggers[1],
                              {**chosen, "familiar": point["familiar"]}, familiar=known)
        fresh = engine.translate_lines(lines)
        assert ev.score([r.braille for r in fresh], refs)["exact_lines"] == point["exact_lines"]
        assert ev.shares(fresh).get("louis", 0.0) == point["louis"]
    off, on = result["curve"]
    picked = on if result["chosen"] == 0.0 else off
    assert picked["exact_lines"] == max(off["exact_lines"], on["exact_lines"])
    if (on["exact_lines"], -on["cell_error_rate"]) == (off["exact_lines"],
                                                       -off["cell_error_rate"]):
        assert result["chosen"] == (0.0 if on["louis"] < off["louis"] else 1.01)
