"""Vectorised encoding and decoding agree with the obvious per-character definitions."""

from __future__ import annotations

from collections import Counter

import numpy as np

from braillejobs.translate.chunks import chunk_key, escape_chunk, key_to_chunk
from braillejobs.translate.vocab import SEP_ID, UNK_CHUNK, UNK_ID, Vocab


def _vocab() -> Vocab:
    chars = Counter("the cat sat on the mat, THE END.\u2019" * 3)
    chunks = Counter({chunk_key(c): n for c, n in [("⠮", 9), ("⠁", 8), ("⠠⠠", 3), ("⠀", 7),
                                                     ("⠼⠁⠃", 2), ("⠲", 1)]})
    return Vocab.build(chars, chunks, max_chunks=6)


def test_encode_matches_lookup():
    v = _vocab()
    text = "the cat\nsat ☃ on Zed"
    ids = v.encode(text)
    expected = [SEP_ID if ch == "\n" else (v.chars.index(ch) if ch in v.chars[3:] else UNK_ID)
                for ch in text]
    assert ids.tolist() == expected
    assert v.encode("").tolist() == []


def test_decode_joins_chunks():
    v = _vocab()
    ids = np.array([2, 0, 3, 4, 0, 2])
    expected = "".join("" if i < 2 else key_to_chunk(v.chunk_keys[i]) for i in ids)
    assert v.decode(ids) == expected
    assert v.decode(np.array([], dtype=np.int64)) == ""
    assert v.decode(np.array([UNK_CHUNK])) == ""    # unknown chunks never reach the output


def test_decode_many_splits_lines():
    v = _vocab()
    ids = np.array([2, 3, 0, 4, 5, 2, 0])
    lengths = [2, 0, 3, 2]
    parts = v.decode_many(ids, lengths)
    assert len(parts) == 4 and parts[1] == ""
    assert "".join(parts) == v.decode(ids)
    starts = np.cumsum([0] + lengths)
    for i, part in enumerate(parts):
        assert part == v.decode(ids[starts[i]:starts[i + 1]])


def test_build_is_deterministic_and_keeps_unknowns():
    a, b = _vocab(), _vocab()
    assert a.to_dict() == b.to_dict()
    assert a.chunk_keys[:2] == [0, -1]             # empty chunk, unknown chunk
    assert a.n_chunks == 6
    assert Vocab.from_dict(a.to_dict()).to_dict() == a.to_dict()
    unknown = a.chunk_ids(np.array([chunk_key("⠲"), chunk_key("⠮"), 12345]))
    assert unknown[0] == UNK_CHUNK and unknown[2] == UNK_CHUNK and unknown[1] >= 2


def test_escapes_are_spelled_from_the_code_points():
    v = _vocab().with_escape()
    assert v.escape_id == v.n_chunks - 1 and v.chunk_keys[:6] == _vocab().chunk_keys
    assert Vocab.from_dict(v.to_dict()).escape_id == v.escape_id
    text = "a한😀\U00100000"
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ids = np.array([3, v.escape_id, v.escape_id, v.escape_id])
    expected = key_to_chunk(v.chunk_keys[3]) + "".join(escape_chunk(c) for c in text[1:])
    assert v.decode(ids, points) == expected
    assert v.decode_many(ids, [1, 3], points) == [expected[:1], expected[1:]]
    assert v.chunks(ids, points) == [key_to_chunk(v.chunk_keys[3])] + [escape_chunk(c) for c in text[1:]]
    assert v.decode(ids) == key_to_chunk(v.chunk_keys[3])     # no code points: escapes are empty


def test_chunk_map_between_vocabularies():
    old = _vocab()
    new = Vocab(old.chars, old.chunk_keys[:2] + list(reversed(old.chunk_keys[2:]))).with_escape()
    mapping = new.chunk_map(old)
    assert mapping[UNK_CHUNK] == UNK_CHUNK
    for i in range(2, old.n_chunks):
        assert new.chunk_keys[mapping[i]] == old.chunk_keys[i]
    assert old.chunk_map(new)[new.escape_id] == UNK_CHUNK     # the older one cannot escape


def test_decode_many_equals_the_per_character_definition_on_random_input():
    v = _vocab().with_escape()
    rng = np.random.default_rng(7)
    text = "".join(rng.choice(list("ab 한😀\U00100000\u2019")) for _ in range(3000))
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ids = rng.integers(0, v.n_chunks, len(text))
    per_char = ["" if i == UNK_CHUNK else escape_chunk(ch) if i == v.escape_id
                else key_to_chunk(v.chunk_keys[i]) for i, ch in zip(ids.tolist(), text)]
    cuts = np.sort(rng.integers(0, len(text), 40))
    lengths = np.diff(np.r_[0, cuts, len(text)]).tolist()     # some lines empty
    bounds = np.cumsum([0] + lengths)
    expected = ["".join(per_char[a:b]) for a, b in zip(bounds, bounds[1:])]
    assert v.decode_many(ids, lengths, points) == expected
    assert v.decode_many(np.zeros(0, dtype=np.int64), [], points[:0]) == []
    assert v.decode_many(np.zeros(0, dtype=np.int64), [0, 0]) == ["", ""]
