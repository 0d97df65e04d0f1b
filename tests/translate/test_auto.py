"""The shipped models and the auto chain: accuracy floors, forced fallbacks, the CLI contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from braillejobs.translate.training import evaluate as ev
from braillejobs.translate.checkpoint import shipped_path
from braillejobs.translate.louis_engine import LouisEngine
from braillejobs.translate.neural import NeuralEngine, load_tagger
from braillejobs.translate.thresholds import DEFAULT_THRESHOLDS
from braillejobs.translate.vocab import UNK_CHUNK

from .conftest import REPO, RULEBOOK, SAMPLE

G2 = "en-ueb-g2.ctb"
# lines with characters the tables do not define (escapes), and empty and one-letter lines
ESCAPES = ["Unicode コンソーシアム (Unicode規格の選定団体)", "emoji 😀 and \U00100000 too", "", "a"]


@pytest.fixture(scope="module")
def taggers():
    return load_tagger("cnn", G2), load_tagger("rnn", G2)


def _auto(taggers, cnn_t, rnn_t):
    return NeuralEngine("auto", G2, taggers[0], taggers[1], {"cnn": cnn_t, "rnn": rnn_t})


def test_shipped_models_fit_the_size_budget():
    paths = [shipped_path(a, t) for a in ("cnn", "rnn") for t in (G2, "en-ueb-g1.ctb")]
    assert all(p.exists() for p in paths)
    # the models and everything shipped beside them (the familiar words, the model cards)
    assert sum(p.stat().st_size for p in paths[0].parent.iterdir()) <= 25_000_000


# typographic punctuation, capital passages, digits: the error classes the cheap CNN was built for
CLASSES = ["I\u2019ll meet you at the caf\u00e9 on Rue Cler at 10:45.",
           "\u201cDon\u2019t,\u201d she said, \u201cit\u2019s not yours.\u201d",
           "WARNING: DO NOT OPEN THIS DOOR", "The UN and the EU met on 3 May 2024 in Brussels.",
           "Chapter IV: THE LONG ROAD HOME"]


def test_shipped_cnn_floor_on_fixed_sample(taggers):
    """The shipped g2 CNN is the cheap one (within the GPU budget of 3 MFLOP a character) and
    writes a fixed sample as liblouis does, alone; auto writes all of it."""
    assert taggers[0].checkpoint.config.flops_per_char <= 3e6
    assert taggers[0].checkpoint.config.capital_roles
    louis = LouisEngine(G2)
    lines = SAMPLE + CLASSES
    refs = [louis.translate_text(line) for line in lines]
    cnn = NeuralEngine("cnn", G2, taggers[0], None, {})
    s = ev.score([r.braille for r in cnn.translate_lines(lines)], refs)
    assert s["exact_lines"] >= 0.9, s
    auto = _auto(taggers, **{"cnn_t": taggers[0].checkpoint.meta["thresholds"]["cnn"],
                             "rnn_t": taggers[0].checkpoint.meta["thresholds"]["rnn"]})
    results = auto.translate_lines(lines)
    s = ev.score([r.braille for r in results], refs)
    assert s["exact_lines"] == 1.0, s
    assert ev.shares(results).get("cnn", 0) >= 0.9


def test_shipped_g1_models_floor_on_fixed_sample():
    g1 = "en-ueb-g1.ctb"
    cnn, rnn = load_tagger("cnn", g1), load_tagger("rnn", g1)
    lines = SAMPLE + ["THE END OF THE STORY", "It cost \u00a312.50 at 9:30, not 10:15."]
    louis = LouisEngine(g1)
    refs = [louis.translate_text(line) for line in lines]
    alone = NeuralEngine("cnn", g1, cnn, None, {}).translate_lines(lines)
    assert ev.score([r.braille for r in alone], refs)["exact_lines"] >= 0.9
    t = cnn.checkpoint.meta["thresholds"]
    results = NeuralEngine("auto", g1, cnn, rnn, t).translate_lines(lines + ESCAPES)
    assert [r.braille for r in results] == refs + [louis.translate_text(x) for x in ESCAPES]
    assert ev.shares(results[:len(lines)]).get("cnn", 0) >= 0.9


def test_forced_low_confidence_goes_to_liblouis(taggers):
    louis = LouisEngine(G2)
    results = _auto(taggers, 1.01, 1.01).translate_lines(SAMPLE)
    for line, r in zip(SAMPLE, results):
        assert r.braille == louis.translate_text(line)
        assert r.chars_by_engine == {"louis": len(line)}


def test_forced_low_cnn_confidence_goes_to_the_bilstm(taggers):
    """Every word goes to the BiLSTM, which keeps all of them but the few the checks after it
    send to liblouis (a word it wrote otherwise than liblouis)."""
    auto = _auto(taggers, 1.01, 0.0)
    results = auto.translate_lines(SAMPLE)
    routed = auto.route(SAMPLE)
    checked = routed.indicator_to_louis | routed.novel_to_louis
    assert (routed.engine == np.where(checked, 2, 1)).all()
    assert checked.sum() < 0.05 * len(checked)
    louis = LouisEngine(G2)
    for line, r in zip(SAMPLE, results):
        assert r.braille == louis.translate_text(line)
        assert set(r.chars_by_engine) <= {"rnn", "louis"}
        assert r.chars_by_engine.get("rnn", 0) > len(line) // 2


def test_unrepresentable_characters_go_to_liblouis(taggers):
    line = "A snowman \u2603 and a comet \u2604 in the sky."
    r = _auto(taggers, 0.0, 0.0).translate_lines([line])[0]
    assert r.braille == LouisEngine(G2).translate_text(line)
    assert r.chars_by_engine.get("louis", 0) > 0 and r.chars_by_engine.get("cnn", 0) > 0


def test_emphasised_lines_go_to_liblouis(taggers):
    import louis
    line = "This word is important."
    tf = [0] * 13 + [louis.italic] * 9 + [0]
    r = _auto(taggers, 0.5, 0.5).translate_lines([line, line], [tf, None])
    assert r[0].braille == LouisEngine(G2).translate_text(line, tf)
    assert r[0].chars_by_engine == {"louis": len(line)}
    assert r[1].braille == LouisEngine(G2).translate_text(line)


def test_lines_holding_braille_go_to_liblouis_with_or_without_typeforms(taggers):
    # the layout writes cells into the text (a transcriber's note for an emoji, a level
    # indicator for a superscript); a document with no emphasis passes no typeforms at all
    lines = ["Water is H\u2082O and E = mc\u00b2 \u2818\u2814.", "The cat sat."]
    louis = LouisEngine(G2)
    for engine in (_auto(taggers, 0.5, 0.5), NeuralEngine("cnn", G2, taggers[0], None, {}),
                   NeuralEngine("rnn", G2, taggers[1], None, {})):
        for typeforms in (None, [None, None]):
            r = engine.translate_lines(lines, typeforms)
            assert r[0].braille == louis.translate_text(lines[0])
            assert r[0].chars_by_engine == {"louis": len(lines[0])}


def test_a_model_for_another_table_is_refused(tmp_path):
    import shutil

    from braillejobs.translate.checkpoint import shipped_path
    from braillejobs.translate.engine import EngineError
    from braillejobs.translate.neural import load_tagger as load
    from tests.support import settings

    shutil.copy(shipped_path("cnn", "en-ueb-g1.ctb"), tmp_path / "cnn-en-ueb-g2.pt")
    with settings(model_dir=str(tmp_path)):
        with pytest.raises(EngineError, match="is a model for en-ueb-g1.ctb, not en-ueb-g2.ctb"):
            load("cnn", G2)
    with settings(model_dir=str(tmp_path / "nowhere")):
        with pytest.raises(EngineError, match="does not exist; set BRAILLEJOBS_MODEL_DIR"):
            load("cnn", G2)


def test_lines_with_breaks_are_refused(taggers):
    with pytest.raises(ValueError, match="line breaks"):
        _auto(taggers, 0.5, 0.5).translate_lines(["two\nlines"])


@pytest.mark.skipif(not RULEBOOK.exists(), reason="rulebook data not beside the repository")
def test_auto_agrees_with_liblouis_on_the_rulebook(taggers):
    t = taggers[0].checkpoint.meta["thresholds"]
    figures = ev.evaluate_rulebook(_auto(taggers, t["cnn"], t["rnn"]), RULEBOOK)
    assert figures["cases"] == 2120
    assert figures["agrees_with_liblouis"] >= 0.98, figures


def test_translate_cli_cnn_matches_liblouis():
    out = subprocess.run([sys.executable, "-m", "braillejobs.cli", "translate", "--engine", "cnn"],
                         input="The quick brown fox\n", capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "⠠⠮⠀⠟⠅⠀⠃⠗⠪⠝⠀⠋⠕⠭\n"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_out_of_memory_halves_the_batch():
    from braillejobs.translate.checkpoint import load
    from braillejobs.translate.neural import Tagger
    tagger = Tagger(load(shipped_path("cnn", G2)), torch.device("cuda"))
    line = ("word " * 420_000)[:-1]                       # 2.1 M characters, about 1,000 windows
    expected = tagger.tag_lines([line]).pred
    free, _total = torch.cuda.mem_get_info()
    hog = torch.empty(free - (3 << 30), dtype=torch.uint8, device="cuda")  # leave 3 GiB free
    try:
        tagger.windows_per_batch = 1024                   # logits alone would need 8 GiB
        tagged = tagger.tag_lines([line])
    finally:
        del hog
        torch.cuda.empty_cache()
    assert tagger.windows_per_batch < 1024
    assert (tagged.pred == expected).mean() > 0.9999   # bf16 kernels may differ by batch size


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_and_cpu_agree(taggers):
    from braillejobs.translate.checkpoint import load
    from braillejobs.translate.neural import Tagger
    gpu = Tagger(load(shipped_path("cnn", G2)), torch.device("cuda")).tag_lines(SAMPLE)
    cpu = taggers[0].tag_lines(SAMPLE)
    assert (gpu.pred == cpu.pred).mean() > 0.999


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"))])
def test_device_decoder_equals_the_host_decoder(taggers, device):
    import numpy as np
    from braillejobs.translate.device_decode import DeviceDecoder
    from braillejobs.translate.vocab import code_points
    vocab = taggers[0].vocab
    text = "".join(SAMPLE + ESCAPES)
    points = code_points(text)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, vocab.n_chunks, len(points))
    ids[rng.random(len(points)) < 0.05] = vocab.escape_id
    lengths = [len(x) for x in SAMPLE + ESCAPES]
    dev = torch.device(device)
    got = DeviceDecoder(vocab, dev).decode(torch.from_numpy(ids).to(dev),
                                           torch.from_numpy(points.astype(np.int32)).to(dev),
                                           lengths)
    assert got == vocab.decode_many(ids, lengths, points)


def test_cnn_engine_direct_path_equals_tagging_then_decoding(taggers):
    """The cnn engine goes text to braille on the device (argmax in the model's precision,
    decoding there); the auto chain tags with probabilities and decodes on the host."""
    lines = SAMPLE + ESCAPES
    direct = NeuralEngine("cnn", G2, taggers[0], None, {}).translate_lines(lines)
    tagged = taggers[0].tag_lines(lines)
    host = taggers[0].vocab.decode_many(tagged.pred, [len(x) for x in lines], tagged.points)
    assert [r.braille for r in direct] == host
    assert [r.chars_by_engine for r in direct] == [{"cnn": len(x)} if x else {} for x in lines]


def test_calibration_sweep_matches_fresh_runs(taggers):
    """The sweep tags each line once and reuses the tags; every point equals a fresh run."""
    lines = SAMPLE + ["Unicode コンソーシアム (Unicode規格の選定団体)", "the horseradish plant"]
    result = ev.calibrate(taggers[0], taggers[1], lines, grid=(0.0, 0.9, 1.01))
    assert [p["threshold"] for p in result["curve"]] == [0.0, 0.9, 1.01]
    louis = LouisEngine(G2)
    refs = [louis.translate_text(line) for line in lines]
    for point in result["curve"]:
        fresh = _auto(taggers, point["threshold"], point["threshold"]).translate_lines(lines)
        s = ev.score([r.braille for r in fresh], refs)
        assert s["exact_lines"] == point["exact_lines"]
        assert ev.shares(fresh).get("louis", 0.0) == point["louis"]
    assert result["curve"][-1]["louis"] == 1.0 and result["curve"][-1]["exact_lines"] == 1.0
    assert result["chosen"]["cnn"] in (0.0, 0.9, 1.01)


def test_calibration_sweeps_the_bilstm_threshold_apart(taggers):
    lines = SAMPLE[:6] + ["HIS MARIJUANA STUCK to the Southend pier, said Dvořák."]
    result = ev.calibrate(taggers[0], taggers[1], lines, grid=(0.9, 1.01),
                          rnn_grid=(0.0, 1.01))
    points = [(p["threshold"], p["rnn_threshold"]) for p in result["curve"]]
    assert points == [(0.9, 0.0), (0.9, 1.01), (1.01, 0.0), (1.01, 1.01)]
    # with the CNN handing over every word, a BiLSTM that settles everything writes it all but
    # the words the checks after it send to liblouis; one that settles nothing leaves it all there
    everything = result["curve"][2]
    assert everything["cnn"] == 0.0 and everything["rnn"] >= 0.9
    assert everything["rnn"] + everything["louis"] == pytest.approx(1.0)
    assert result["curve"][3]["louis"] == 1.0
    for point in result["curve"]:
        fresh = _auto(taggers, point["threshold"], point["rnn_threshold"]).translate_lines(lines)
        assert ev.shares(fresh).get("rnn", 0.0) == point["rnn"]


def test_choice_prefers_accuracy_then_a_careful_cnn_then_less_liblouis():
    def p(t, tr, exact, louis, rnn=0.0):
        return {"threshold": t, "rnn_threshold": tr, "exact_lines": exact,
                "cell_error_rate": 1 - exact, "cnn": 1 - louis - rnn, "rnn": rnn,
                "louis": louis}

    curve = [p(0.99, 0.9, 0.999, 0.004, 0.004), p(0.999, 0.9, 1.0, 0.006, 0.008),
             p(0.999, 0.999, 1.0, 0.012, 0.002), p(0.995, 0.5, 1.0, 0.003, 0.01)]
    assert ev.choose(curve) == {"cnn": 0.999, "rnn": 0.9, "agree": 1.01, "agree_cnn": 0.0}
    # a point that leaves too little to the neural engines is not eligible
    assert ev.choose([p(0.999, 0.9, 1.0, 0.5), p(0.99, 0.9, 0.99, 0.01)]) == \
        {"cnn": 0.99, "rnn": 0.9, "agree": 1.01, "agree_cnn": 0.0}
    # agreement that settles more without losing a line wins; among equals, the higher threshold
    agreeing = [{**p(0.999, 0.9, 1.0, 0.006, 0.008), "agree_threshold": 1.01},
                {**p(0.999, 0.9, 1.0, 0.001, 0.013), "agree_threshold": 0.5},
                {**p(0.999, 0.9, 1.0, 0.001, 0.013), "agree_threshold": 0.3},
                {**p(0.999, 0.9, 0.999, 0.0, 0.014), "agree_threshold": 0.0}]
    assert ev.choose(agreeing) == {"cnn": 0.999, "rnn": 0.9, "agree": 0.5, "agree_cnn": 0.0}
    # a CNN floor on agreement that keeps every line beats none; among equals, the higher floor
    floored = [{**agreeing[1], "agree_cnn_floor": 0.0},
               {**p(0.999, 0.9, 1.0, 0.0005, 0.0135), "agree_threshold": 0.0,
                "agree_cnn_floor": 0.9},
               {**p(0.999, 0.9, 1.0, 0.0005, 0.0135), "agree_threshold": 0.0,
                "agree_cnn_floor": 0.95}]
    assert ev.choose(floored) == {"cnn": 0.999, "rnn": 0.9, "agree": 0.0, "agree_cnn": 0.95}


def _words(line: str) -> list[tuple[int, int]]:
    """Start and end of every run of spaces and of non-spaces."""
    out, a = [], 0
    for b in range(1, len(line) + 1):
        if b == len(line) or (line[b] == " ") != (line[a] == " "):
            out.append((a, b))
            a = b
    return out


def test_bilstm_settles_a_word_by_agreeing_with_the_cnn(taggers):
    """With every word handed over and the BiLSTM's own answers never taken, the agreement rule
    settles exactly the words the BiLSTM writes, character by character, as the CNN did; they
    keep the CNN's chunks, count as the BiLSTM's, and the routing report counts them."""
    lines = SAMPLE + CLASSES + ["HIS MARIJUANA STUCK to the Southend pier, said Dvořák."]
    cnn, rnn = taggers
    never = {"cnn": 1.01, "rnn": 1.01}
    off = NeuralEngine("auto", G2, cnn, rnn, {**never, "agree": 1.01}).route(lines)
    assert (off.engine == 2).all() and not off.agreed.any()
    engine = NeuralEngine("auto", G2, cnn, rnn, {**never, "agree": 0.0})
    on = engine.route(lines)
    first, second = cnn.tag_lines(lines), rnn.tag_lines(lines)
    mine = engine.fallback_map[second.pred]
    expected, offset = [], 0
    for line in lines:
        mask = np.zeros(len(line), dtype=bool)
        for a, b in _words(line):
            mask[a:b] = bool(np.all(mine[offset + a:offset + b] == first.pred[offset + a:offset + b]))
        expected.append(mask)
        offset += len(line)
    expected = np.concatenate(expected)
    assert 0 < expected.sum() < len(expected)
    assert np.array_equal(on.agreed, expected)
    assert np.array_equal(on.engine == 1, expected) and np.array_equal(on.engine == 2, ~expected)
    assert np.array_equal(on.pred, np.where(expected, first.pred, on.pred))
    assert np.array_equal(on.second, mine)   # every line was asked: its own answer everywhere
    assert np.array_equal(on.first_conf, first.conf)
    assert np.array_equal(on.second_conf, np.where(mine == UNK_CHUNK, -1.0, second.conf))
    report = ev.routing_report(engine, lines)
    words = sum(1 for line in lines for a, b in _words(line) if line[a] != " ")
    assert report["handed_to_rnn"] == words
    assert 0 < report["settled_by_agreement"] == report["settled_by_rnn"] < words
    assert report["settled_right"] <= report["settled_by_rnn"]
    assert report["handed_cnn_right"] >= report["settled_right"]   # it wrote what the CNN did
    # a word settled by agreement is the BiLSTM's own answer too
    assert report["settled_right"] <= report["handed_rnn_right"] <= report["handed_to_rnn"]
    # the floors table: no floor is the rule just run; a floor on both models, word by word
    floors = {(f["cnn_floor"], f["rnn_floor"]): f for f in report["agreement_floors"]}
    assert floors[0.0, 0.0] == {"cnn_floor": 0.0, "rnn_floor": 0.0,
                                "settled": report["settled_by_agreement"],
                                "wrong": report["settled_by_agreement"] - report["settled_right"]}
    sure, offset = 0, 0
    for line in lines:
        for a, b in _words(line):
            w = slice(offset + a, offset + b)
            sure += bool(line[a] != " " and expected[w].all() and first.conf[w].min() >= 0.9
                         and second.conf[w].min() >= 0.5)
        offset += len(line)
    assert floors[0.9, 0.5]["settled"] == sure
    # the same rule with a CNN floor (halfway between two of the agreeing words' least sure
    # characters): only the agreeing words the CNN holds that sure of
    mins, offset = [], 0
    for line in lines:
        mins += [float(first.conf[offset + a:offset + b].min()) for a, b in _words(line)
                 if line[a] != " " and expected[offset + a:offset + b].all()]
        offset += len(line)
    low, high = np.unique(mins)[[len(set(mins)) // 3, 2 * len(set(mins)) // 3]]
    floor = float((low + high) / 2)
    floored = NeuralEngine("auto", G2, cnn, rnn, {**never, "agree": 0.0, "agree_cnn": floor})
    kept, offset = [], 0
    for line in lines:
        mask = np.zeros(len(line), dtype=bool)
        for a, b in _words(line):
            w = slice(offset + a, offset + b)
            mask[a:b] = bool(expected[w].all() and first.conf[w].min() >= floor)
        kept.append(mask)
        offset += len(line)
    kept = np.concatenate(kept)
    assert 0 < kept.sum() < expected.sum()
    assert np.array_equal(floored.route(lines).agreed, kept)
    assert floored.route(lines).engine.tolist() == np.where(kept, 1, 2).tolist()
    for (cf, rf), f in floors.items():
        assert f["wrong"] <= f["settled"] <= floors[0.0, 0.0]["settled"]
        assert f["settled"] <= floors[min(cf, 0.5), min(rf, 0.5)]["settled"]
    apart = report["apart_rnn_sure"]
    assert max(apart["rnn_right"], apart["cnn_right"]) <= apart["words"]
    assert apart["words"] + floors[0.0, 0.0]["settled"] <= report["handed_to_rnn"]


def test_calibration_sweeps_agreement_below_the_bilstm_threshold(taggers):
    lines = SAMPLE[:4]
    result = ev.calibrate(taggers[0], taggers[1], lines, grid=(0.99,), rnn_grid=(0.5, 1.01),
                          agree_grid=(0.0, 0.7), agree_cnn_grid=(0.0, 0.9))
    points = [(p["rnn_threshold"], p["agree_threshold"], p["agree_cnn_floor"])
              for p in result["curve"]]
    assert points == [(0.5, 0.0, 0.0), (0.5, 0.0, 0.9), (0.5, 1.01, 0.0),
                      (1.01, 0.0, 0.0), (1.01, 0.0, 0.9), (1.01, 0.7, 0.0), (1.01, 0.7, 0.9),
                      (1.01, 1.01, 0.0)]
    assert set(result["chosen"]) == {"cnn", "rnn", "agree", "agree_cnn"}


def test_routing_report_counts_the_bilstm_work(taggers):
    """The BiLSTM route taken and counted: with a CNN threshold that hands words over and a
    BiLSTM threshold that settles them, words go to the BiLSTM, it writes characters, the
    report counts them, and every settled word is checked against liblouis."""
    lines = SAMPLE + ["HIS MARIJUANA STUCK to the Southend pier."]
    engine = _auto(taggers, 0.9999, 0.5)
    report = ev.routing_report(engine, lines)
    assert report["handed_to_rnn"] > 0 and report["settled_by_rnn"] > 0
    assert 0 <= report["settled_right"] <= report["settled_by_rnn"] <= report["handed_to_rnn"]
    assert report["share"]["rnn"] > 0
    results = engine.translate_lines(lines)
    assert sum(r.chars_by_engine.get("rnn", 0) for r in results) == \
        round(report["share"]["rnn"] * sum(len(x) for x in lines))
    # no BiLSTM: nothing is handed to it, everything unsure goes to liblouis
    alone = NeuralEngine("auto", G2, taggers[0], None, {"cnn": 0.9999, "rnn": 0.5})
    quiet = ev.routing_report(alone, lines)
    assert quiet["handed_to_rnn"] == 0 and quiet["share"]["rnn"] == 0


def test_shipped_cnn_writes_escapes_and_lumped_words(taggers):
    """What the labels' escape class and spread words made expressible: characters the table does
    not define, and words liblouis reports whole on their first character."""
    lines = ["The Korean name of the country is 한국, and Tokyo is 東京 in Japanese.",
             "Add grated horseradish to the sauce before serving.",
             "The Russian word да means yes.", "A multimedia guide comes with the book.",
             "The prescription began with the sign ℞ and a date.",
             "She sent a smiley 😀 at the end."]
    louis = LouisEngine(G2)
    cnn = NeuralEngine("cnn", G2, taggers[0], None, {})
    for line, r in zip(lines, cnn.translate_lines(lines)):
        assert r.braille == louis.translate_text(line), line
        assert r.chars_by_engine == {"cnn": len(line)}


def test_a_bilstm_chunk_the_cnn_cannot_write_goes_to_liblouis(taggers):
    """Where the BiLSTM's answer has no chunk in the CNN's vocabulary, its word is not settled
    (it would be written as nothing): liblouis writes it."""
    lines = SAMPLE[:8]
    engine = _auto(taggers, 1.01, 0.0)           # every word handed over, the BiLSTM sure of all
    engine.fallback_map = np.full_like(engine.fallback_map, UNK_CHUNK)
    results = engine.translate_lines(lines)
    louis = LouisEngine(G2)
    assert [r.braille for r in results] == [louis.translate_text(x) for x in lines]
    assert all(set(r.chars_by_engine) == {"louis"} for r in results)


def test_the_operator_sets_the_routing_over_the_calibrated_thresholds():
    """BRAILLEJOBS_AUTO_THRESHOLDS overrides the checkpoint's thresholds it names and keeps the
    rest; with the BiLSTM's rules off, every word the CNN is unsure of goes to liblouis."""
    from braillejobs import config
    from braillejobs.translate.neural import build_engine
    from tests.support import settings

    calibrated = load_tagger("cnn", G2).checkpoint.meta["thresholds"]
    lines = SAMPLE + ["HIS MARIJUANA STUCK to the Southend pier."]
    with settings(auto_thresholds="cnn=0.9999, rnn=1.01,agree=1.01"):
        engine = build_engine("auto", G2)
        assert engine.thresholds == {**DEFAULT_THRESHOLDS, **calibrated, "cnn": 0.9999,
                                     "rnn": 1.01, "agree": 1.01}
        report = ev.routing_report(engine, lines)
    assert report["handed_to_rnn"] > 0 and report["settled_by_rnn"] == 0
    assert report["share"]["rnn"] == 0 and report["share"]["louis"] > 0
    assert build_engine("auto", G2).thresholds == {**DEFAULT_THRESHOLDS, **calibrated}

    for bad, says in (("louis=1", "'louis' is not a threshold"), ("cnn=high", "from 0 to 1.01"),
                      ("cnn=2", "from 0 to 1.01"), ("cnn", "from 0 to 1.01")):
        with settings(auto_thresholds=bad):
            with pytest.raises(config.ConfigError) as info:
                config.get("auto_thresholds")
        assert "BRAILLEJOBS_AUTO_THRESHOLDS" in str(info.value) and says in str(info.value)


def test_shipped_models_write_every_digit_as_itself(taggers):
    """A misread number misleads a reader most of all: on numbers in many settings (prices,
    versions, dates, capital passages, ordinals, hex), each digit's chunk ends with that digit's
    cell (a capital passage may close after it), for both shipped g2 models alone."""
    cells = np.array([ord(c) for c in "⠚⠁⠃⠉⠙⠑⠋⠛⠓⠊"])              # 0..9
    rng = np.random.default_rng(7)
    forms = ["Call {n} now.", "The total was ${n}.{m:02d}", "{n}th floor", "ISBN {n}-{m}",
             "ROOM {n} IS CLOSED", "v{n}.{m}.3", "{n}%", "({n})", "x{n}y", "{n}:{m:02d}",
             "page {n}, line {m}", "0x{n}", "{n}km/h", "#{n}", "{m}/12/{n}"]
    lines = [forms[k].format(n=int(rng.integers(0, 10 ** int(rng.integers(1, 12)))),
                             m=int(rng.integers(0, 60)))
             for k in rng.integers(0, len(forms), 400)]
    for tagger in taggers:
        ends = []
        for chunk in tagger.vocab.chunk_strings:
            chunk = chunk.removesuffix("⠠⠄")
            ends.append(ord(chunk[-1]) if chunk else 0)
        tagged = tagger.tag_lines(lines)
        points = tagged.points.astype(np.int64)
        digit = (points >= ord("0")) & (points <= ord("9"))
        assert digit.sum() > 2000
        wrong = np.array(ends)[tagged.pred[digit]] != cells[points[digit] - ord("0")]
        assert not wrong.any(), tagger.version
