"""Where a character sits in a run of capitalised words: an input feature of the CNN.

UEB writes three or more consecutive all-capital words as a *capitals passage*: the passage
indicator (⠠⠠⠠) before the first word, the terminator (⠠⠄) after the last, nothing on the words
between; one or two such words each take the word indicator (⠠⠠). Whether a word opens, continues
or ends a passage depends on words that can lie far outside a convolution's window, so the CNN
is told, for every character, the role of its word:

====  ====================================================================
0     not in a capitalised word (spaces, lower-case words, tokens without letters)
1     a capitalised word on its own (the word indicator)
2     one of two consecutive capitalised words
3     the first word of a run of three or more (the passage indicator)
4     a word inside such a run
5     the last word of such a run (the terminator)
====  ====================================================================

A *word* is a run of non-space characters; it is *capitalised* when it holds an upper-case letter
and no lower-case one (``MP3``, ``THE-BIG``, ``TWO'S``). Tokens without letters (``33``, ``&``)
neither count nor break a run, as in liblouis; a lower-case letter or a line break ends it.

Computed over a whole stream of character ids with a few vectorised tensor operations (no loop
over characters), on the device that runs the model, before the stream is cut into windows.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np
import torch

from .vocab import PAD_ID, SEP_ID, Vocab

N_ROLES = 6
OTHER, UPPER, LOWER, SPACE = 0, 1, 2, 3


def letter_classes(vocab: Vocab) -> np.ndarray:
    """Class of every input id: upper-case letter, lower-case letter, space, or other. Unknown
    characters count as other (a capitalised word stays capitalised around them)."""
    out = np.full(vocab.n_chars, OTHER, dtype=np.int64)
    for i, ch in enumerate(vocab.chars):
        out[i] = SPACE if i in (PAD_ID, SEP_ID) else char_class(ch) if ch else OTHER
    return out


def capital_roles(ids: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """The role (0-5, see the module docstring) of every position of a 1-D stream of ids."""
    return roles_of(classes[ids.long()], ids == SEP_ID)


def char_class(ch: str) -> int:
    """The class of one character of text, as ``letter_classes`` gives it for a known one."""
    return SPACE if ch.isspace() else UPPER if ch.isupper() else LOWER if ch.islower() else OTHER


def has_capital(token: str) -> bool:
    """Whether ``token`` holds an upper-case letter, as ``char_class`` classes one."""
    return any(ch.isupper() for ch in token)


def capitalised(token: str) -> bool:
    """Whether ``token`` is a capitalised word as the roles count one: an upper-case letter and
    no lower-case one (``HELLO,``, ``MP3``, ``A``)."""
    return has_capital(token) and not any(ch.islower() for ch in token)


_ASCII_CLASS = np.array([char_class(chr(c)) for c in range(128)], dtype=np.int64)


def text_classes(text: str, points: np.ndarray) -> np.ndarray:
    """``char_class`` of every character of ``text`` (``points`` its code points): a table
    lookup for ASCII, the rest one by one."""
    out = _ASCII_CLASS[np.minimum(points, 127)]
    for i in np.flatnonzero(points > 127).tolist():
        out[i] = char_class(text[i])
    return out


def text_roles(lines: Sequence[str]) -> list[np.ndarray]:
    """The role of every character of each line, computed from the text itself (every
    character classed by ``char_class``), all lines in one pass."""
    joined = "\n".join(lines)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = torch.from_numpy(text_classes(joined, points))
    breaks = torch.from_numpy(points == ord("\n"))
    roles = roles_of(cls, breaks).numpy()
    starts = np.cumsum([0] + [len(line) + 1 for line in lines])
    return [roles[a:a + len(line)] for a, line in zip(starts.tolist(), lines)]


def token_roles(lines: Sequence[str], offsets: np.ndarray, starts: Sequence[int],
                tokens: Sequence[str]) -> list[int]:
    """The role (``text_roles``) at the start of each token, ``starts`` its position in the
    concatenated ``lines`` (``offsets`` their starts and the end). A token without an upper-case
    letter has role 0, so only lines holding a token with one are computed."""
    starts = np.asarray(starts, dtype=np.int64)
    capped = [has_capital(t) for t in tokens]
    line_of = (np.searchsorted(offsets, starts, side="right") - 1).tolist()
    wanted = sorted({k for k, c in zip(line_of, capped) if c})
    line_roles = dict(zip(wanted, text_roles([lines[k] for k in wanted])))
    return [int(line_roles[k][a - int(offsets[k])]) if c else 0
            for a, k, c in zip(starts.tolist(), line_of, capped)]


def uncertain_roles(lines: Sequence[str], undefined: Callable[[str], bool]) -> np.ndarray:
    """For each character of the concatenated ``lines``: whether its word's role depends on how
    letters outside ASCII are counted. liblouis counts a letter only where its table defines one
    (Greek capitals and accented Latin ones; not Cyrillic, which it writes as escapes, and ``µ``
    is a sign there), takes a character it does not define (``undefined``) as a break inside a
    word, and a model counts a letter only where its vocabulary holds it. So in ``PROUD TO BE A
    ΦΒΚ`` or ``МОСКВА WE NOW`` the text alone does not settle where a capitals passage ends,
    nor which word takes the terminator.

    A token (a run of non-spaces) holding an ASCII lower-case letter is a lower-case word
    however the rest is counted, and ends every run of capitalised words. Between two such
    tokens, a stretch whose roles could change is marked whole: one that holds an upper-case
    letter and a doubtful token, whose being a word, or a capitalised one, changes with whether
    its letters outside ASCII count (``ΦΒΚ``, ``Ωб``, ``µ``; not ``CAFÉ``), or that holds a
    character liblouis does not define. Lines of ASCII are certain."""
    marks = np.zeros(sum(len(line) for line in lines), dtype=bool)
    at = 0
    for line in lines:
        if not line.isascii():
            stretch: list[tuple[int, int]] = []
            doubt = upper = False
            for match in _TOKEN.finditer(line + " x"):     # the sentinel ends the last stretch
                token = match.group()
                if _ASCII_LOWER.search(token):
                    if doubt and upper:
                        for a, b in stretch:
                            marks[at + a:at + b] = True
                    stretch, doubt, upper = [], False, False
                    continue
                stretch.append(match.span())
                upper = upper or any(ch.isupper() for ch in token)
                doubt = doubt or _doubtful(token, undefined)
        at += len(line)
    return marks


_TOKEN = re.compile(r"\S+")
_ASCII_LOWER = re.compile(r"[a-z]")


def _doubtful(token: str, undefined: Callable[[str], bool]) -> bool:
    """Whether a token without ASCII lower-case letters changes with how its other letters are
    counted (see ``uncertain_roles``)."""
    foreign = [ch for ch in token if not ch.isascii()]
    if not foreign:
        return False
    if any(undefined(ch) or (ch.isalpha() and not ch.isupper() and not ch.islower())
           for ch in foreign):
        return True
    ascii_upper = any("A" <= ch <= "Z" for ch in token)
    lettered = has_capital(token) or any(ch.islower() for ch in token)
    # counted: a word if it has any letter, capitalised as ``capitalised`` says; not counted:
    # only its ASCII capitals make it a word, and then a capitalised one
    return (lettered, capitalised(token)) != (ascii_upper, ascii_upper)


def roles_of(cls: torch.Tensor, breaks: torch.Tensor) -> torch.Tensor:
    """The role of every position, given its class (a line break is a space) and where the lines
    break."""
    n = cls.numel()
    roles = torch.zeros(n, dtype=torch.int64, device=cls.device)
    if n == 0:
        return roles
    space = cls == SPACE
    start = ~space
    start[1:] &= space[:-1]
    token = torch.cumsum(start.long(), 0) - 1                  # token index of each character
    n_tokens = int(start.sum())
    if n_tokens == 0:
        return roles
    word = ~space
    tok = token[word]
    upper = torch.zeros(n_tokens, dtype=torch.int64, device=cls.device)
    lower = torch.zeros_like(upper)
    upper.index_add_(0, tok, (cls[word] == UPPER).long())
    lower.index_add_(0, tok, (cls[word] == LOWER).long())
    lettered = (upper + lower) > 0
    capital = (upper > 0) & (lower == 0)
    # the line of each token: a separator between two tokens breaks a run
    line = torch.cumsum(breaks.long(), 0)[start]
    # runs over the lettered tokens only (tokens without letters are transparent)
    idx = torch.nonzero(lettered).squeeze(1)
    cap = capital[idx]
    lline = line[idx]
    new_run = cap.clone()
    if len(idx) > 1:
        new_run[1:] &= ~cap[:-1] | (lline[1:] != lline[:-1])
    run = torch.cumsum(new_run.long(), 0) - 1
    run_len = torch.bincount(run[cap], minlength=max(int(new_run.sum()), 1))
    length = torch.where(cap, run_len[run.clamp(min=0)], torch.zeros_like(run))
    first = new_run
    last = cap.clone()
    if len(idx) > 1:
        last[:-1] &= ~cap[1:] | (lline[1:] != lline[:-1])
    role = torch.where(length == 1, 1, 0)
    role = torch.where(length == 2, 2, role)
    long_run = length >= 3
    role = torch.where(long_run, 4, role)
    role = torch.where(long_run & first, 3, role)
    role = torch.where(long_run & last, 5, role)
    token_role = torch.zeros(n_tokens, dtype=torch.int64, device=cls.device)
    token_role[idx] = role
    roles[word] = token_role[tok]
    return roles


def with_roles(ids: torch.Tensor, classes: torch.Tensor, n_chars: int) -> torch.Tensor:
    """Character ids and roles packed into one id a position (``id + n_chars * role``): the
    windows, the padding (id 0, role 0) and the batching stay as they are."""
    return ids.long() + n_chars * capital_roles(ids, classes)
