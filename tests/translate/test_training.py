"""A tiny train-then-translate run, the checkpoint round trip, resuming, and the windowing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from braillejobs.cli.model import train_cmd
from braillejobs.translate import checkpoint as ckpt_mod
from braillejobs.translate.louis_engine import load_louis
from braillejobs.translate.training import train as trainer
from braillejobs.translate.neural import DEFAULT_THRESHOLDS, NeuralEngine, Tagger
from braillejobs.translate.vocab import UNK_CHUNK

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def tiny_models(tiny_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    paths = {}
    for arch in ("cnn", "rnn"):
        opts = trainer.TrainOptions(arch=arch, preset="tiny", steps=120, batch=16, length=128,
                                    device="cpu", resume=False, eval_lines=50, lr=5e-3)
        trainer.train(tiny_corpus, out / f"{arch}-en-ueb-g2.pt", opts)
        paths[arch] = out / f"{arch}-en-ueb-g2.pt"
    return paths


def test_labelling_is_cached_and_covers_the_corpus(tiny_corpus):
    a = trainer.label_corpus(tiny_corpus, "en-ueb-g2.ctb", workers=1)
    b = trainer.label_corpus(tiny_corpus, "en-ueb-g2.ctb", workers=1)
    assert a.stats == b.stats and np.array_equal(a.x, b.x)
    assert len(a.x) == len(a.y) == a.stats["chars"]
    assert a.stats["chunk_coverage"] > 0.99
    assert trainer.labels_path(tiny_corpus, "en-ueb-g2.ctb").exists()


def test_tiny_model_learns_and_translates(tiny_models, tiny_corpus):
    ckpt = ckpt_mod.load(tiny_models["cnn"])
    assert ckpt.table == "en-ueb-g2.ctb" and ckpt.meta["steps"] == 120
    assert ckpt.meta["corpus_sha256"] == trainer.label_corpus(
        tiny_corpus, "en-ueb-g2.ctb").stats["corpus_sha256"]
    held = ckpt.meta["heldout"]
    assert held["lines"] > 0
    # 120 steps of a 30k-parameter model are far from good, but far from chance too
    assert held["cell_error_rate"] < 0.6
    engine = NeuralEngine("cnn", "en-ueb-g2.ctb", Tagger(ckpt, torch.device("cpu")), None,
                          DEFAULT_THRESHOLDS)
    out = engine.translate_lines(SAMPLE[:5] + [""])
    assert len(out) == 6 and out[-1].braille == ""
    for line, r in zip(SAMPLE[:5], out):
        assert r.chars_by_engine == {"cnn": len(line)}
        assert all(0x2800 <= ord(c) <= 0x28FF for c in r.braille)   # escapes use dots 7-8


def test_checkpoint_round_trip(tiny_models, tmp_path):
    ckpt = ckpt_mod.load(tiny_models["rnn"])
    again = tmp_path / "copy.pt"
    ckpt_mod.save(again, ckpt.build_model("cpu"), ckpt.vocab, ckpt.table, ckpt.meta)
    reloaded = ckpt_mod.load(again)
    assert reloaded.version == ckpt.version
    assert reloaded.config == ckpt.config and reloaded.vocab.to_dict() == ckpt.vocab.to_dict()
    assert reloaded.meta == ckpt.meta
    a = Tagger(ckpt, torch.device("cpu")).tag_lines(SAMPLE)
    b = Tagger(reloaded, torch.device("cpu")).tag_lines(SAMPLE)
    assert np.array_equal(a.pred, b.pred)


def test_bad_checkpoints_are_refused_with_advice(tmp_path):
    with pytest.raises(ckpt_mod.CheckpointError, match="train one"):
        ckpt_mod.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt_mod.CheckpointError, match="not a readable"):
        ckpt_mod.load(junk)


def test_windows_do_not_change_the_result(tiny_models):
    """A long line tagged in many small overlapping windows equals one tagged in one window."""
    ckpt = ckpt_mod.load(tiny_models["cnn"])
    line = " ".join(SAMPLE) * 3
    one = Tagger(ckpt, torch.device("cpu"))
    many = Tagger(ckpt, torch.device("cpu"), batch_chars=1000)
    many.core = 64
    many.window = many.core + 2 * many.margin
    assert len(line) > 20 * many.core
    a, b = one.tag_lines([line, "short"]), many.tag_lines([line, "short"])
    assert np.array_equal(a.pred, b.pred)
    assert np.allclose(a.conf, b.conf, atol=1e-5)


def test_train_command_resumes(tiny_corpus, tmp_path):
    out = tmp_path / "cnn.pt"
    base = ["--arch", "cnn", "--preset", "tiny", "--corpus", str(tiny_corpus), "-o", str(out),
            "--batch", "8", "--length", "64", "--device", "cpu", "--eval-lines", "0"]
    runner = CliRunner()
    first = runner.invoke(train_cmd, base + ["--steps", "20"])
    assert first.exit_code == 0, first.output
    assert ckpt_mod.load(out).meta["steps"] == 20
    second = runner.invoke(train_cmd, base + ["--steps", "30"])
    assert second.exit_code == 0, second.output
    meta = ckpt_mod.load(out).meta
    assert meta["steps"] == 30                      # 20 resumed + 10 more, not 30 afresh
    assert meta["chars_seen"] == 30 * 8 * 64


def test_unknown_chunk_id_is_reserved(tiny_models):
    ckpt = ckpt_mod.load(tiny_models["cnn"])
    assert ckpt.vocab.chunk_keys[UNK_CHUNK] == -1


def test_fine_tune_keeps_the_vocabulary_and_adds_escapes(tiny_models, tiny_corpus, tmp_path):
    base = ckpt_mod.load(tiny_models["cnn"])
    assert base.vocab.escape_id < 0          # the tiny corpus holds no undefined characters
    out = tmp_path / "tuned.pt"
    args = ["--arch", "cnn", "--init", str(tiny_models["cnn"]), "--corpus", str(tiny_corpus),
            "-o", str(out), "--steps", "10", "--batch", "8", "--length", "64", "--device", "cpu",
            "--eval-lines", "20"]
    result = CliRunner().invoke(train_cmd, args)
    assert result.exit_code == 0, result.output
    tuned = ckpt_mod.load(out)
    assert tuned.config.channels == base.config.channels and tuned.meta["preset"] == "tiny"
    assert tuned.vocab.chars == base.vocab.chars
    assert tuned.vocab.chunk_keys[:base.vocab.n_chunks] == base.vocab.chunk_keys
    assert tuned.vocab.escape_id == base.vocab.n_chunks
    assert tuned.meta["fine_tuned_from"]["version"] == base.version
    assert tuned.meta["steps"] == 10 and tuned.meta["heldout"]["lines"] >= 1
    # the old chunks' output weights started from the base model's, not afresh
    w_base = base.state_dict["out.weight"].float()
    w_tuned = tuned.state_dict["out.weight"].float()
    assert w_tuned.shape[0] == w_base.shape[0] + 1
    assert torch.allclose(w_tuned[:w_base.shape[0]], w_base, atol=0.05)
    # a plain fine-tune re-estimates the normalisation statistics on its windows
    assert tuned.meta["fine_tuned_from"]["norm_frozen"] is False
    assert not _same_norm_statistics(base, tuned)
    assert tuned.meta["fine_tuned_from"]["anchor"] == 0.0     # no anchor without corrections
    assert tuned.meta["fine_tuned_from"]["kept_prose"] is None   # nor a blend back
    # a model of another architecture cannot start from it
    wrong = CliRunner().invoke(train_cmd, ["--arch", "rnn"] + args[2:])
    assert wrong.exit_code != 0 and "use --arch cnn" in wrong.output
    # keeping the statistics means nothing without a model to keep them from: refused, not
    # silently ignored
    refused = CliRunner().invoke(train_cmd, args[:2] + args[4:] + ["--freeze-norm", "--preset",
                                                                    "tiny"])
    assert refused.exit_code != 0 and "give the checkpoint to start from with --init" in \
        refused.output


def _same_norm_statistics(a, b) -> bool:
    keys = [k for k in a.state_dict if k.endswith(("running_mean", "running_var"))]
    assert keys
    return all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in keys)


def test_precision_choice():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert trainer.use_bf16(trainer.TrainOptions(arch="cnn"), cuda)
    assert not trainer.use_bf16(trainer.TrainOptions(arch="rnn"), cuda)
    assert trainer.use_bf16(trainer.TrainOptions(arch="cnn"), cpu) == trainer.cpu_has_bf16()
    assert not trainer.use_bf16(trainer.TrainOptions(arch="cnn", precision="fp32"), cuda)
    with pytest.raises(ValueError, match="precision"):
        trainer.use_bf16(trainer.TrainOptions(precision="fp16"), cpu)


def test_flops_per_char_counts_every_convolution():
    """The figure the benchmark divides by: twice the multiply-adds of one position, which for
    1-d convolutions is the sum of their weights' sizes."""
    from braillejobs.translate.cnn import CNN_PRESETS, CNNConfig, CNNTagger
    for name, preset in CNN_PRESETS.items():
        config = CNNConfig(n_chars=50, n_chunks=70, **preset)
        convs = [m for m in CNNTagger(config).modules() if isinstance(m, torch.nn.Conv1d)]
        assert config.flops_per_char == 2 * sum(m.weight.numel() for m in convs), name


@pytest.mark.parametrize("arch", ["cnn", "rnn"])
def test_capital_roles_see_past_every_window(tiny_corpus, arch):
    """A tagger (CNN or BiLSTM) with capital roles computes them over the whole stream before the
    windows: a capitals passage far longer than a window tags the same in one window or in many,
    and the roles reach the model (the same letters in a shorter run tag differently)."""
    config_cls, model_cls, presets = ckpt_mod.ARCHS[arch]
    vocab = trainer.label_corpus(tiny_corpus, "en-ueb-g2.ctb").vocab
    torch.manual_seed(3)
    config = config_cls(n_chars=vocab.n_chars, n_chunks=vocab.n_chunks,
                        **{**presets["tiny"], "capital_roles": True})
    model = model_cls(config).eval()
    ckpt = ckpt_mod.Checkpoint(arch, config, vocab, "en-ueb-g2.ctb", model.state_dict())
    # stored and read back with the flag; a config without it keeps its old stored form
    assert type(config).from_dict(config.to_dict()) == config
    plain = config_cls(n_chars=vocab.n_chars, n_chunks=vocab.n_chunks, **presets["tiny"])
    assert "capital_roles" not in plain.to_dict()
    passage = " ".join(["THE", "BIG", "DOG", "RAN", "HOME"] * 100)
    lines = [passage, "the cat", "THE CAT"]
    one = Tagger(ckpt, torch.device("cpu"))
    a = one.tag_lines(lines)
    if arch == "cnn":   # its receptive field lies within the margin: windows change nothing
        many = Tagger(ckpt, torch.device("cpu"), batch_chars=1000)
        many.core = 32
        many.window = many.core + 2 * many.margin
        assert len(passage) > 20 * many.window  # the passage spans many windows
        b = many.tag_lines(lines)
        assert np.array_equal(a.pred, b.pred)
        assert np.allclose(a.conf, b.conf, atol=1e-5)
    # "THE" opening a long passage and "THE" alone differ only by their role
    short = one.tag_lines(["THE"])
    assert not np.allclose(a.conf[:3], short.conf[:3], atol=1e-6)


def test_focus_finds_the_words_the_cnn_hands_over(tiny_models, tiny_corpus):
    """The positions a fallback trains on are exactly the characters of the words the auto
    chain would hand over (same threshold), found over the labelled stream."""
    from braillejobs.translate.neural import unsure_chars
    from braillejobs.translate.training.corpus import read_lines
    from braillejobs.translate.training.focus import hard_positions, stream_text
    from braillejobs.translate.vocab import SEPARATOR

    labelled = trainer.label_corpus(tiny_corpus, "en-ueb-g2.ctb")
    lines = list(read_lines(tiny_corpus / "train.txt"))
    text = stream_text(labelled.x, labelled.vocab, tiny_corpus)
    assert text == SEPARATOR + SEPARATOR.join(lines) + SEPARATOR
    # without the corpus, the text is spelled from the ids: the same where the vocabulary knows
    # the characters
    spelled = stream_text(labelled.x, labelled.vocab)
    known = set(labelled.vocab.chars)
    assert len(spelled) == len(text) and "$" in text and "$" not in spelled
    assert all(a == b if b in known else a == "\ufffd" for a, b in zip(spelled, text))
    hard = hard_positions(text, tiny_models["cnn"], tiny_corpus, threshold=0.9)
    tagger = Tagger(ckpt_mod.load(tiny_models["cnn"]), torch.device("cpu"))
    lengths = np.array([len(x) for x in lines])
    tagged = tagger.tag_lines(lines)
    space_id = int(tagger.vocab.encode(" ")[0])
    mask = unsure_chars(tagged, lengths, 0.9, space_id)
    line_start = np.cumsum(np.r_[0, lengths[:-1] + 1]) + 1     # after each separator
    expected = np.concatenate([line_start[i] + np.flatnonzero(mask[a:b])
                               for i, (a, b) in enumerate(zip(np.r_[0, np.cumsum(lengths)[:-1]],
                                                              np.cumsum(lengths)))])
    assert 0 < len(hard) < len(labelled.x)
    assert np.array_equal(hard, expected)
    # cached: the second call reads the file
    again = hard_positions(text, tiny_models["cnn"], tiny_corpus, threshold=0.9)
    assert np.array_equal(again, hard)


def test_training_with_focus_records_it(tiny_models, tiny_corpus, tmp_path):
    opts = trainer.TrainOptions(arch="rnn", preset="tiny", steps=6, batch=4, length=64,
                                device="cpu", resume=False, eval_lines=0,
                                focus=tiny_models["cnn"], focus_share=0.75,
                                focus_threshold=0.9, focus_sample=1 << 16)
    ckpt = trainer.train(tiny_corpus, tmp_path / "rnn.pt", opts)
    focus = ckpt.meta["focus"]
    assert focus["share"] == 0.75 and focus["positions"] > 0
    assert focus["sample_chars"] == 1 << 16
    assert focus["cnn"] == ckpt_mod.load(tiny_models["cnn"]).version
    with pytest.raises(ValueError, match="focus share"):
        trainer.train(tiny_corpus, tmp_path / "x.pt",
                      trainer.TrainOptions(arch="rnn", preset="tiny", steps=1, device="cpu",
                                           focus=tiny_models["cnn"], focus_share=0.0))


def test_negative_examples_are_the_words_most_like_a_corrected_one():
    """For each corrected word, the corpus words sharing the most four-letter sequences with it,
    leaving out the corrected words and those that start with one (built on it, where the
    correction carries)."""
    from braillejobs.translate.training.taught import NEIGHBOURS, neighbours

    lines = ["The stateroom was next to the anteroom, by the statement of the statesman.",
             "Two staterooms were booked; a room was free. As well as that, swell."]
    assert neighbours(["stateroom"], lines, per=3) == ["anteroom", "statement", "statesman"]
    assert neighbours(["stateroom"], lines, per=0) == []
    # a phrase's words of four letters or more are looked for, and never given as neighbours
    assert neighbours(["as well as", "stateroom"], lines, per=1) == ["anteroom", "swell"]
    # the command's default (kept literal there: the CLI imports no training module to start)
    assert {p.name: p.default for p in train_cmd.params}["corrections_negatives"] == NEIGHBOURS


def test_fine_tuning_with_corrections_labels_them_in_many_contexts(tiny_models, tiny_corpus,
                                                                    tmp_path):
    """`train --corrections`: liblouis with the corrections table is the teacher, and every
    correction is put in corpus lines in varied forms; the trainer records what it was taught."""
    from braillejobs.corrections import active, store
    from braillejobs.translate.training.taught import NEIGHBOURS, taught_stream
    from tests.support import settings

    spelled = "⠅⠝⠪⠇⠫⠛⠑"
    with settings(database_url=f"sqlite:///{tmp_path / 'bj.db'}", data_dir=tmp_path / "data"):
        store.add(store.propose("knowledge", spelled, table="en-ueb-g2.ctb"))
        corrections = active.load("en-ueb-g2.ctb")
        # the shipped CNN's vocabulary (the tiny one lacks the capitals' chunks)
        from braillejobs.translate.neural import model_dir
        vocab = ckpt_mod.load(model_dir() / "cnn-en-ueb-g2.pt").vocab.with_escape()
        x, y, starts, stats = taught_stream(tiny_corpus, vocab, corrections.tables,
                                            ["knowledge"], sample_chars=1 << 14, per=40,
                                            workers=1)
        assert stats["context_lines"] >= 80 and stats["corrections"] == 1
        assert len(x) == len(y)
        chars = vocab.chars
        text = "".join(chars[i] for i in x)
        louis = load_louis()
        forms, near = set(), []
        for s in starts:
            end = s
            while end < len(text) and text[end].isalpha():
                end += 1
            word = text[s:end]
            cells = "".join(vocab.chunk_strings[i] for i in y[s:end])
            if word.lower() != "knowledge":
                near.append(word.lower())
                if word.islower() and text[s - 1:s] in ("", " ", "\n") and \
                        text[end:end + 1] in ("", " ", "\n"):     # as liblouis writes it
                    assert cells == louis.translateString(["en-ueb-g2.ctb"], word,
                                                          mode=louis.dotsIO | louis.ucBrl)
                continue
            assert cells.lstrip("⠠") == spelled, (word, cells)    # never the wordsign ⠅
            forms.add("upper" if word.isupper() else "title" if word[0].isupper() else "lower")
        assert forms == {"lower", "title", "upper"}
        # the negative examples: words like it, centred on as often as it, at most
        assert stats["corrected_words"] >= 40 and len(starts) == stats["corrected_words"] + \
            stats["negative_starts"]
        assert 0 < len(near) == stats["negative_starts"] <= stats["corrected_words"]
        assert stats["negative_words"] <= NEIGHBOURS and "knowledge" not in near
        assert all(any(w[i:i + 4] in "knowledge" for i in range(len(w) - 3)) for w in near)
        none = taught_stream(tiny_corpus, vocab, corrections.tables, ["knowledge"],
                             sample_chars=1 << 14, per=40, negatives=0, workers=1)[3]
        assert none["negative_starts"] == 0 and none["context_lines"] == 40
        opts = trainer.TrainOptions(arch="cnn", steps=8, batch=4, length=64, device="cpu",
                                    resume=False, eval_lines=0, init=tiny_models["cnn"],
                                    corrections=corrections, corrections_sample=1 << 14,
                                    corrections_share=0.5)
        ckpt = trainer.train(tiny_corpus, tmp_path / "taught.pt", opts)
        taught = ckpt.meta["corrections"]
        assert taught["digest"] == corrections.digest and taught["corrected_words"] >= 40
        assert taught["share"] == 0.5 and ckpt.meta["steps"] == 8
        # a skewed sample must not re-estimate the normalisation statistics (by default)
        assert ckpt.meta["fine_tuned_from"]["norm_frozen"] is True
        # and keeps what the start had right, by default
        assert ckpt.meta["fine_tuned_from"]["anchor"] == trainer.ANCHOR_WITH_CORRECTIONS == 1.0
        # and is blended back until its prose holds, by default
        from braillejobs.translate.training.blend import GRID
        assert ckpt.meta["fine_tuned_from"]["kept_prose"]["weight"] in GRID
        base = ckpt_mod.load(tiny_models["cnn"])
        assert _same_norm_statistics(base, ckpt)
        assert not torch.equal(base.state_dict["out.weight"], ckpt.state_dict["out.weight"])
        with pytest.raises(ValueError, match="give the checkpoint to start from"):
            trainer.train(tiny_corpus, tmp_path / "x.pt",
                          trainer.TrainOptions(arch="cnn", preset="tiny", steps=1, device="cpu",
                                               corrections=corrections))


def _wreck_the_shipped_cnn(tiny_corpus, tmp_path, *options):
    """Fine-tune the shipped CNN with a learning rate far too high, on a copy of the tiny corpus
    whose held-out split is the twenty sample lines: (corpus, shipped, out, CLI result)."""
    import shutil

    corpus_dir = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus_dir)      # its held-out split is one line: use twenty
    (corpus_dir / "heldout.txt").write_text("\n".join(SAMPLE) + "\n", encoding="utf-8")
    shipped = ckpt_mod.shipped_path("cnn", "en-ueb-g2.ctb")
    out = tmp_path / "wrecked.pt"
    result = CliRunner().invoke(train_cmd, [
        "--arch", "cnn", "--init", str(shipped), "--corpus", str(corpus_dir), "-o", str(out),
        "--steps", "4", "--batch", "4", "--length", "64", "--lr", "1.0", "--device", "cpu",
        "--eval-lines", "40", "--no-resume", *options])
    assert result.exit_code == 0, result.output
    return corpus_dir, shipped, out, result


def test_a_fine_tune_that_drifts_from_liblouis_is_reported(tiny_corpus, tmp_path):
    """Fine-tuning records, on the same held-out lines, how many the model it started from and
    the fine-tuned one write as liblouis does; `train` warns when the fine-tune writes fewer.
    Here the shipped CNN is wrecked on purpose by a learning rate far too high."""
    from braillejobs.corrections.matching import Matcher
    from braillejobs.translate.training.evaluate import drift_from_start

    corpus_dir, shipped, out, result = _wreck_the_shipped_cnn(tiny_corpus, tmp_path)
    drift = ckpt_mod.load(out).meta["heldout_vs_start"]
    assert drift["lines"] == len(SAMPLE) and drift["outside_corrections"] is False
    assert drift["start"] > 0.5 > drift["tuned"]
    assert "warning:" in result.output and "drifted from liblouis" in result.output
    assert f"{drift['start']:.2%}" in result.output and shipped.name in result.output
    # a model against itself has not drifted, and lines a correction applies to are left out
    matcher = Matcher(["braille"])
    kept = [line for line in SAMPLE if not matcher.spans(line)]
    assert 0 < len(kept) < len(SAMPLE)
    same = drift_from_start(shipped, shipped, corpus_dir / "heldout.txt", 40, matcher)
    assert same == {"lines": len(kept), "outside_corrections": True, "start": same["tuned"],
                    "tuned": same["start"]}


def test_tune_top_learns_only_the_last_blocks_and_the_output(tiny_models, tiny_corpus, tmp_path):
    """`train --tune-top N` keeps everything below the CNN's last N residual blocks as the
    starting model had it; those blocks, the final normalisation and the output layer learn."""
    base = ckpt_mod.load(tiny_models["cnn"])
    n_blocks = len(base.config.dilations)
    out = tmp_path / "top.pt"
    result = CliRunner().invoke(train_cmd, [
        "--arch", "cnn", "--init", str(tiny_models["cnn"]), "--corpus", str(tiny_corpus),
        "-o", str(out), "--steps", "6", "--batch", "8", "--length", "64", "--device", "cpu",
        "--eval-lines", "0", "--tune-top", "1", "--lr", "1e-2", "--no-resume"])
    assert result.exit_code == 0, result.output
    tuned = ckpt_mod.load(out)
    assert tuned.meta["fine_tuned_from"]["tuned_top_blocks"] == 1
    top = (f"blocks.{n_blocks - 1}.", "norm.", "out.")
    changed = {k for k, v in base.state_dict.items()
               if v.is_floating_point() and not torch.equal(v, tuned.state_dict[k])}
    assert changed and all(k.startswith(top) for k in changed)
    assert any(k.startswith(f"blocks.{n_blocks - 1}.conv") for k in changed)
    with pytest.raises(ValueError, match="residual blocks"):
        trainer.train(tiny_corpus, tmp_path / "x.pt", trainer.TrainOptions(
            arch="cnn", steps=1, device="cpu", eval_lines=0, init=tiny_models["cnn"],
            tune_top=n_blocks + 1))
    with pytest.raises(ValueError, match="top of a CNN"):
        trainer.train(tiny_corpus, tmp_path / "y.pt", trainer.TrainOptions(
            arch="rnn", steps=1, device="cpu", eval_lines=0, init=tiny_models["rnn"],
            tune_top=1))


def test_the_anchor_term_keeps_what_the_start_had_right_and_only_that():
    """Zero for a model that predicts as the start does; where the start's best guess is not
    the label (a correction), nothing pulls back towards it."""
    torch.manual_seed(0)
    teacher = torch.nn.Embedding(12, 5)
    xb = torch.randint(0, 12, (2, 7))
    ref = teacher(xb).detach()
    yb = ref.argmax(-1)                                   # the start writes every label
    assert float(trainer.anchor_loss(ref.clone(), teacher, xb, yb)) == pytest.approx(0, abs=1e-6)
    moved = (ref + torch.randn_like(ref)).requires_grad_(True)
    assert float(trainer.anchor_loss(moved, teacher, xb, yb).detach()) > 0.01
    wrong = (yb + 1) % 5                                  # the start is wrong everywhere
    loss = trainer.anchor_loss(moved, teacher, xb, wrong)
    assert float(loss.detach()) == 0
    loss.backward()
    assert float(moved.grad.abs().sum()) == 0


def test_fine_tune_with_an_anchor_records_it(tiny_models, tiny_corpus, tmp_path):
    out = tmp_path / "anchored.pt"
    result = CliRunner().invoke(train_cmd, [
        "--arch", "cnn", "--init", str(tiny_models["cnn"]), "--corpus", str(tiny_corpus),
        "-o", str(out), "--steps", "4", "--batch", "8", "--length", "64", "--device", "cpu",
        "--eval-lines", "0", "--anchor", "1", "--no-resume"])
    assert result.exit_code == 0, result.output
    assert ckpt_mod.load(out).meta["fine_tuned_from"]["anchor"] == 1.0
    with pytest.raises(ValueError, match="--anchor"):
        trainer.train(tiny_corpus, tmp_path / "x.pt", trainer.TrainOptions(
            arch="cnn", preset="tiny", steps=1, device="cpu", eval_lines=0, anchor=1.0))


def test_a_blend_lies_on_the_straight_line_between_start_and_fine_tune():
    from braillejobs.translate.training.blend import blend

    start = {"w": torch.tensor([0.0, 2.0]).half(), "n": torch.tensor(3)}
    tuned = {"w": torch.tensor([4.0, -2.0]), "n": torch.tensor(9)}
    assert torch.equal(blend(start, tuned, 0.0)["w"], torch.tensor([0.0, 2.0]))
    assert torch.equal(blend(start, tuned, 1.0)["w"], tuned["w"])
    half = blend(start, tuned, 0.25)
    assert torch.allclose(half["w"], torch.tensor([1.0, 1.0])) and half["w"].dtype == torch.float32
    assert int(half["n"]) == 9                 # a counter is the fine-tune's, never blended


def test_keep_prose_blends_a_wrecked_fine_tune_back_until_its_prose_holds(tiny_corpus, tmp_path):
    """`--keep-prose`: the shipped CNN wrecked on purpose (a learning rate far too high) is
    blended back toward the shipped weights until it writes the tuning half of the held-out
    lines as liblouis does at least as often as the shipped CNN; the checkpoint records the
    weight kept and each weight tried, and the kept model is the one saved."""
    from braillejobs.translate.training.evaluate import exact_share
    from braillejobs.translate.training.evaluate import halves
    from braillejobs.translate.louis_engine import LouisEngine

    corpus_dir, shipped, out, result = _wreck_the_shipped_cnn(tiny_corpus, tmp_path,
                                                              "--keep-prose")
    ckpt = ckpt_mod.load(out)
    kept = ckpt.meta["fine_tuned_from"]["kept_prose"]
    tune, _evaluation = halves(SAMPLE)
    assert kept["lines"] == len(tune) == 10
    assert kept["tuned"] < kept["start"] <= kept["kept"] and kept["weight"] < 1.0
    assert kept["tried"]["1.0"] == kept["tuned"] and kept["tried"][str(kept["weight"])] == \
        kept["kept"]
    assert all(share < kept["start"] for w, share in kept["tried"].items()
               if float(w) > kept["weight"])          # nothing nearer the fine-tune passed
    louis = LouisEngine("en-ueb-g2.ctb")
    refs = [louis.translate_text(line) for line in tune]
    assert exact_share(ckpt, tune, refs, torch.device("cpu")) == kept["kept"]   # as saved
    assert "kept prose:" in result.output and f"{kept['kept']:.2%}" in result.output
    # the resume file holds the fine-tune as trained, not the blend
    resume = torch.load(trainer.resume_path(out), weights_only=False)
    assert not torch.equal(resume["model"]["out.weight"].half(), ckpt.state_dict["out.weight"])
    with pytest.raises(ValueError, match="--keep-prose"):
        trainer.train(corpus_dir, tmp_path / "x.pt", trainer.TrainOptions(
            arch="cnn", preset="tiny", steps=1, device="cpu", eval_lines=0, keep_prose=True))
    (corpus_dir / "heldout.txt").unlink()
    with pytest.raises(FileNotFoundError, match="--no-keep-prose"):
        trainer.train(corpus_dir, tmp_path / "y.pt", trainer.TrainOptions(
            arch="cnn", steps=1, device="cpu", eval_lines=0, init=shipped, keep_prose=True))
