"""The training corpus: English text from installable packages plus generators for what prose lacks.

``braillejobs corpus build OUT`` streams every source below, cleans it into lines (a paragraph or
a sentence group, never a newline inside), removes duplicates, and splits the lines into a train
file and a held-out file by a hash of the line, so the split is stable whatever the order. The
generators are seeded: the same seed and the same installed packages give the same corpus, byte
for byte, and ``manifest.json`` records each source's size and the digests of both files.

Reserved for independent evaluation and never read here: Python's documentation packages,
fortune files, the Jargon File and the Debian Administrator's Handbook.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import html
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

HELDOUT_PERCENT = 1
MAX_LINE = 600
_WS = re.compile(r"\s+")


class CorpusError(RuntimeError):
    """A source is missing or unreadable; the message says which package provides it."""


# ---------------------------------------------------------------------------------------------
# cleaning helpers

def clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def paragraphs(text: str) -> Iterator[str]:
    """Blank-line separated paragraphs, reflowed to one line each."""
    for block in re.split(r"\n[ \t]*\n", text):
        line = clean(block)
        if line:
            yield line


def split_long(line: str, limit: int = MAX_LINE) -> Iterator[str]:
    """Cut a long paragraph at sentence ends so that no line passes ``limit`` characters."""
    if len(line) <= limit:
        yield line
        return
    current = ""
    for sentence in re.split(r"(?<=[.!?;:])\s+", line):
        if current and len(current) + 1 + len(sentence) > limit:
            yield current
            current = ""
        current = f"{current} {sentence}" if current else sentence
        while len(current) > limit:
            cut = current.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            yield current[:cut]
            current = current[cut:].lstrip()
    if current:
        yield current


def prose_like(line: str, min_len: int = 12) -> bool:
    if len(line) < min_len:
        return False
    letters = sum(ch.isalpha() for ch in line)
    return letters >= 0.6 * len(line)


def _read_dict(name: str) -> str:
    path = Path(f"/usr/share/dictd/{name}.dict.dz")
    if not path.exists():
        raise CorpusError(f"{path} is missing")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        return fh.read()


def _installed(patterns: Iterable[str], what: str) -> list[str]:
    """The files matching ``patterns`` (sorted, so the corpus is deterministic), or an error."""
    files = [f for pattern in patterns for f in sorted(glob.glob(pattern, recursive=True))]
    if not files:
        raise CorpusError(f"no {what}")
    return files


# ---------------------------------------------------------------------------------------------
# typographic punctuation: what word processors and the web write for ASCII quotes

TYPOGRAPHIC_SHARE = 0.4          # of the lines with ASCII quotes, those written typographically
_OPENS_AFTER = set(" \t([{<\u201c\u2018\u2014\u2013-/")
_ELISIONS = ("tis", "twas", "em", "n'", "n\u2019", "cause", "til", "round")
_CODE_LIKE = set("$={}\\;<>")


def typographic(line: str) -> str:
    """``line`` with ASCII quotes and apostrophes written as a word processor would: “…”, ‘…’,
    ’ inside and at the end of words and for elisions (``'90s``, ``'tis``)."""
    out = []
    n = len(line)
    for i, ch in enumerate(line):
        prev = line[i - 1] if i else " "
        nxt = line[i + 1] if i + 1 < n else " "
        opening = prev in _OPENS_AFTER
        if ch == '"':
            out.append("\u201c" if opening else "\u201d")
        elif ch == "'":
            if prev.isalnum() and nxt.isalnum():
                out.append("\u2019")                       # don't, O'Neil
            elif opening:
                rest = line[i + 1:i + 6].lower()
                elided = nxt.isdigit() or rest.startswith(_ELISIONS)
                out.append("\u2019" if elided else "\u2018")
            else:
                out.append("\u2019")                       # students', a closing quote
        else:
            out.append(ch)
    return "".join(out)


def maybe_typographic(line: str, rng: random.Random) -> str:
    """Some lines with ASCII quotes, in their typographic form (not code-like lines)."""
    if ("'" in line or '"' in line) and not _CODE_LIKE & set(line) \
            and rng.random() < TYPOGRAPHIC_SHARE:
        return typographic(line)
    return line


# ---------------------------------------------------------------------------------------------
# sources: installable English text

_GCIDE_TAG = re.compile(r"\[(?:1913 Webster|PJC|Webster 1913 Suppl\.|[A-Z][A-Za-z .]{0,20})\]")


def gcide() -> Iterator[str]:
    """GNU Collaborative International Dictionary of English: definitions and quotations."""
    text = _read_dict("gcide")
    for para in paragraphs(text):
        if "\\" in para or para.startswith("00-database"):
            continue  # headword lines carry pronunciation markup
        para = _GCIDE_TAG.sub("", para).replace("{", "").replace("}", "")
        para = re.sub(r"^\d+\.\s*", "", clean(para))
        if prose_like(para):
            yield para


def wordnet() -> Iterator[str]:
    """WordNet 3.0 glosses and their example sentences."""
    text = _read_dict("wn")
    for para in paragraphs(text):
        para = re.sub(r"\[(?:syn|ant|also|see also)[^\]]*\]", "", para)
        para = para.replace("{", "").replace("}", "")
        for piece in re.split(r"\s(?:[nvar]|adj|adv)?\s?\d+:\s|^(?:[nvar]|adj|adv)\s\d?:?\s?", para):
            piece = clean(piece)
            if not piece:
                continue
            gloss, *examples = piece.split('; "')
            if prose_like(gloss, 20):
                yield gloss
            for ex in examples:
                ex = ex.strip().strip(";").strip('"')
                if prose_like(ex):
                    yield ex


def devil() -> Iterator[str]:
    """Ambrose Bierce, The Devil's Dictionary."""
    for para in paragraphs(_read_dict("devil")):
        if prose_like(para):
            yield para


def foldoc() -> Iterator[str]:
    """The Free On-line Dictionary of Computing."""
    for para in paragraphs(_read_dict("foldoc")):
        para = para.replace("{", "").replace("}", "")
        if prose_like(para, 20):
            yield para


_POD_CODE = re.compile(r"[BCIFLSEXZ]<{1,2}\s?(.*?)\s?>{1,2}")


def perl_pod() -> Iterator[str]:
    """Perl's manual pages (POD): prose paragraphs and some code lines."""
    for path in _installed(["/usr/share/perl/*/pod/*.pod"], "Perl POD files"):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        for block in re.split(r"\n[ \t]*\n", text):
            if block.startswith("="):
                head = clean(re.sub(r"^=\w+\s*", "", block))
                if prose_like(head, 8):
                    yield head
                continue
            if block.startswith((" ", "\t")):  # verbatim code: keep each line as it stands
                for code_line in block.splitlines():
                    code_line = code_line.strip()
                    if 8 <= len(code_line) <= 120:
                        yield code_line
                continue
            for _ in range(3):
                block = _POD_CODE.sub(r"\1", block)
            para = clean(block)
            if prose_like(para):
                yield para


def git_docs() -> Iterator[str]:
    """Git's manual and release notes (AsciiDoc text)."""
    for path in _installed(["/usr/share/doc/git/**/*.txt"], "Git documentation"):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        for para in paragraphs(text):
            para = re.sub(r"(?:linkgit:|link:)(\S+?)\[\d*\]", r"\1", para)
            para = para.replace("`", "")
            if prose_like(para, 20) and not set(para) <= set("-=~^*+ "):
                yield para


def gnu_standards() -> Iterator[str]:
    """The GNU Coding Standards and Information for Maintainers (Info)."""
    for path in _installed(["/usr/share/info/standards.info*", "/usr/share/info/maintain.info*"],
                           "GNU standards Info files"):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            text = fh.read().replace("\x1f", "\n\n")
        for para in paragraphs(text):
            if para.startswith(("File:", "* ")) or set(para) <= set("*=-. "):
                continue
            if prose_like(para, 20):
                yield para


_TAG = re.compile(r"<[^>]+>")


def debian_reference() -> Iterator[str]:
    """The Debian Reference (HTML), text of its paragraphs."""
    for path in _installed(["/usr/share/doc/debian-reference-en/docs/*.html"],
                           "Debian Reference HTML"):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        for block in re.findall(r"<(p|li|td|h[1-4])[^>]*>(.*?)</\1>", text, flags=re.S):
            para = clean(html.unescape(_TAG.sub("", block[1])))
            if prose_like(para, 15):
                yield para


def word_lists() -> Iterator[str]:
    """Runs of words from the American English word list, so rare words are seen."""
    path = Path("/usr/share/dict/american-english")
    if not path.exists():
        raise CorpusError(f"{path} is missing")
    words = [w for w in path.read_text(encoding="utf-8").split() if w]
    rng = random.Random(7)
    rng.shuffle(words)
    for i in range(0, len(words), 9):
        yield " ".join(words[i:i + 9])


# ---------------------------------------------------------------------------------------------
# generators: what prose under-represents

def _common_words() -> list[str]:
    try:
        from wordfreq import top_n_list  # type: ignore
    except ImportError:
        raise CorpusError("the wordfreq package is missing") from None
    return [w for w in top_n_list("en", 30000) if w.isalpha() or "'" in w]


class Generators:
    """Seeded makers of numbers, capitals, punctuation, addresses and other hard cases."""

    MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    ABBREVIATIONS = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "e.g.", "i.e.", "etc.",
                     "vs.", "U.S.A.", "U.K.", "a.m.", "p.m.", "Ph.D.", "Jr.", "Sr.", "No.",
                     "approx.", "Fig.", "cf.", "Inc.", "Ltd.", "Co.", "Mt.", "Ave."]
    ACCENTED = ["café", "naïve", "résumé", "façade", "Zürich", "São Paulo", "jalapeño",
                "Ångström", "Dvořák", "piñata", "crème brûlée", "Möbius", "Pokémon",
                "fiancée", "déjà vu", "über", "Brontë", "Gödel", "Curaçao", "señor", "Bogotá",
                "El Niño", "Champs-Élysées", "smörgåsbord", "Kraków", "Renée", "coöperate",
                "Chloë", "Noël", "Île-de-France", "Øresund", "Ærø", "Œuvre", "mañana"]
    HYPHENATED = ["well-known", "twenty-one", "mother-in-law", "self-esteem", "long-term",
                  "up-to-date", "state-of-the-art", "e-mail", "re-enter", "x-ray", "T-shirt",
                  "forty-two", "so-called", "one-third", "co-operate", "part-time", "check-in"]
    APOSTROPHES = ["don't", "it's", "o'clock", "rock 'n' roll", "'90s", "students'",
                   "James's", "can't", "won't", "y'all", "ma'am", "we'd", "they're", "'tis",
                   "fo'c'sle", "Hallowe'en", "shouldn't've", "the Smiths'", "'em"]
    SYMBOLS = ["&", "@", "#", "*", "%", "§", "©", "®", "™", "°", "†", "‡", "•", "¶", "~",
               "+", "=", "<", ">", "|", "^", "_", "\\", "/", "×", "÷", "±", "µ", "€", "£",
               "¥", "¢", "$", "½", "¼", "¾", "…", "–", "—", "‘", "’", "“", "”", "«", "»"]
    TLDS = ["com", "org", "net", "edu", "gov", "co.uk", "io", "de", "ca", "info"]

    def __init__(self, seed: int, words: list[str]):
        self.rng = random.Random(seed)
        self.words = words

    def word(self) -> str:
        # skew towards common words: index drawn from a roughly Zipfian distribution
        i = int(len(self.words) * self.rng.random() ** 2.5)
        return self.words[min(i, len(self.words) - 1)]

    def phrase(self, n: int | None = None) -> str:
        n = n or self.rng.randint(3, 12)
        return " ".join(self.word() for _ in range(n))

    # numbers in every form
    def number(self) -> str:
        r, c = self.rng, self.rng.randint(0, 21)
        if c == 0:
            return f"{r.randint(0, 10**r.randint(1, 7)):,}"
        if c == 1:
            return f"{r.uniform(0, 1000):.{r.randint(1, 3)}f}"
        if c == 2:
            n = r.randint(1, 200)
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            return f"{n}{suffix}"
        if c == 3:
            h, m = r.randint(1, 12), r.randint(0, 59)
            return f"{h}:{m:02d} {r.choice(['a.m.', 'p.m.', 'am', 'pm', 'AM', 'PM'])}"
        if c == 4:
            return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        if c == 5:
            return f"{r.randint(1, 12)}/{r.randint(1, 28)}/{r.randint(1900, 2030)}"
        if c == 6:
            return f"{r.randint(1, 28)} {r.choice(self.MONTHS)} {r.randint(1066, 2030)}"
        if c == 7:
            return f"{r.choice(self.MONTHS)} {r.randint(1, 31)}, {r.randint(1800, 2030)}"
        if c == 8:
            return f"{r.randint(1900, 2030)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if c == 9:
            cur = r.choice(["$", "£", "€", "¥", "US$", "A$"])
            return f"{cur}{r.randint(0, 99999):,}.{r.randint(0, 99):02d}" if r.random() < .6 \
                else f"{cur}{r.randint(1, 999)}"
        if c == 10:
            return f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}"
        if c == 11:
            return f"+{r.randint(1, 99)} {r.randint(10, 999)} {r.randint(100, 9999)} {r.randint(1000, 9999)}"
        if c == 12:
            return f"{r.choice([r.randint(1, 100), round(r.uniform(0, 100), 1)])}%"
        if c == 13:
            a = r.randint(1, 500)
            return f"{a}{r.choice(['-', '–', ' to '])}{a + r.randint(1, 500)}"
        if c == 14:
            return f"{r.randint(1, 9)}/{r.randint(2, 16)}"
        if c == 15:
            return r.choice(["½", "¼", "¾", "⅓", "⅔", "⅛"])
        if c == 16:
            return f"{r.randint(1, 999)} {r.choice(['km', 'kg', 'cm', 'mm', 'mg', 'lb', 'oz', 'ft', 'mph', 'MHz', 'GB', 'ml'])}"
        if c == 17:
            return f"{r.randint(-40, 120)}°{r.choice(['F', 'C', ''])}"
        if c == 18:
            return r.choice(["I", "II", "III", "IV", "V", "VI", "IX", "X", "XII", "XIV", "XX", "MCMXCIV"])
        if c == 19:
            return f"{r.randint(0, 9)}.{r.randint(0, 99)}.{r.randint(0, 99)}"
        if c == 20:
            return f"{r.randint(1, 30)}{r.choice(['x', '×', ' x '])}{r.randint(1, 30)}"
        return f"{r.randint(1, 9999)}{r.choice(['', 'a', 'b', 'A', 'B', 'th', 's'])}"

    def capitals(self) -> str:
        r = self.rng
        c = r.randint(0, 4)
        if c == 0:
            return " ".join(self.word().upper() for _ in range(r.randint(3, 8)))
        if c == 1:
            return self.word().upper()
        if c == 2:
            return "".join(r.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(r.randint(2, 5))) \
                + r.choice(["", "s", "'s", "-2", "3"])
        if c == 3:
            return " ".join(self.word().capitalize() for _ in range(r.randint(1, 4)))
        return r.choice(["iPhone", "McDonald", "MacBook", "eBay", "YouTube", "PhD", "PowerPoint",
                         "JavaScript", "O'Neil", "DiCaprio", "NaCl", "pH", "mRNA", "TV", "OK"])

    def address(self) -> str:
        r, w = self.rng, self.word
        c = r.randint(0, 4)
        if c == 0:
            path = "/".join(w() for _ in range(r.randint(0, 3)))
            q = f"?{w()}={r.randint(1, 99)}" if r.random() < .3 else ""
            return f"{r.choice(['https://', 'http://', 'www.', 'https://www.'])}{w()}.{r.choice(self.TLDS)}/{path}{q}"
        if c == 1:
            return f"{w()}{r.choice(['.', '_', ''])}{w()}@{w()}.{r.choice(self.TLDS)}"
        if c == 2:
            return "/" + "/".join(w() for _ in range(r.randint(1, 4))) + r.choice(["", ".txt", ".py", "/"])
        if c == 3:
            return "C:\\" + "\\".join(w().capitalize() for _ in range(r.randint(1, 3)))
        return f"#{w()}" if r.random() < .5 else f"@{w()}"

    def punctuation(self) -> str:
        r = self.rng
        c = r.randint(0, 6)
        if c == 0:
            return f"“{self.phrase()}”"
        if c == 1:
            return f"‘{self.phrase(r.randint(1, 4))}’"
        if c == 2:
            return f"{self.word()}{r.choice(['—', ' — ', '–', ' – ', '--'])}{self.word()}"
        if c == 3:
            return f"{self.phrase(r.randint(1, 5))}{r.choice(['…', '...', '. . .'])}"
        if c == 4:
            return f"{r.choice(['(', '[', '{'])}{self.phrase(r.randint(1, 5))}{r.choice([')', ']', '}'])}"
        if c == 5:
            return f"{self.word()} {r.choice(self.SYMBOLS)} {self.word()}"
        return f"\"{self.phrase(r.randint(1, 6))}\""

    def special(self) -> str:
        r = self.rng
        kind = r.randint(0, 6)
        if kind == 0:
            return self.number()
        if kind == 1:
            return self.capitals()
        if kind == 2:
            return self.address()
        if kind == 3:
            return self.punctuation()
        if kind == 4:
            return r.choice(self.ACCENTED)
        if kind == 5:
            return r.choice(self.ABBREVIATIONS + self.HYPHENATED)
        return r.choice(self.APOSTROPHES)

    def sentence(self, host: str | None = None) -> str:
        """A line mixing hard cases into either a real sentence or a phrase of common words."""
        r = self.rng
        words = (host or self.phrase()).split(" ")
        for _ in range(r.randint(1, 3)):
            words.insert(r.randint(0, len(words)), self.special())
        line = " ".join(words)
        if r.random() < .5:
            line = line[:1].upper() + line[1:]
        if r.random() < .6:
            line += r.choice([".", ".", "?", "!", ":", ";", ","])
        return line


# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    name: str
    package: str
    reader: Callable[[], Iterable[str]]
    licence: str


SOURCES: tuple[Source, ...] = (
    Source("gcide", "dict-gcide", gcide, "GPL-3+"),
    Source("wordnet", "dict-wn", wordnet, "WordNet licence"),
    Source("devil", "dict-devil", devil, "public domain"),
    Source("foldoc", "dict-foldoc", foldoc, "GPL-2+"),
    Source("perl-pod", "perl-doc", perl_pod, "Artistic or GPL-1+"),
    Source("git-docs", "git-doc", git_docs, "GPL-2"),
    Source("gnu-standards", "gnu-standards", gnu_standards, "GFDL"),
    Source("debian-reference", "debian-reference-en", debian_reference, "GPL-2+"),
    Source("word-lists", "wamerican", word_lists, "public domain"),
)
SOURCE_PACKAGES = " ".join(s.package for s in SOURCES)


def heldout(line: str) -> bool:
    digest = hashlib.blake2b(line.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little") % 100 < HELDOUT_PERCENT


def _user_documents(directory: Path) -> Iterator[str]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in {".txt", ".md", ".text"}:
            for para in paragraphs(path.read_text(encoding="utf-8", errors="replace")):
                yield para


def build(out: Path, *, seed: int = 1, synthetic_share: float = 0.3,
          sources: Iterable[Source] = SOURCES, user_dir: Path | None = None,
          progress: Callable[[str, int], None] | None = None,
          max_chars: int | None = None) -> dict:
    """Write ``train.txt``, ``heldout.txt`` and ``manifest.json`` under ``out``; return the manifest.

    ``synthetic_share`` of the characters come from the generators (half of them hosted inside
    real sentences). ``max_chars`` caps the corpus (for tests and small presets).
    """
    if not 0 <= synthetic_share <= 1:
        raise CorpusError(f"synthetic share {synthetic_share} is not between 0 and 1")
    out.mkdir(parents=True, exist_ok=True)
    gens = Generators(seed, _common_words())
    seen: set[bytes] = set()
    stats: dict[str, dict[str, int]] = {}
    digests = {"train": hashlib.sha256(), "heldout": hashlib.sha256()}
    total = 0
    real_sentences: list[str] = []
    files = {k: open(out / f"{k}.txt", "w", encoding="utf-8", newline="\n") for k in digests}

    quotes = random.Random(seed + 1)

    def emit(name: str, line: str) -> bool:
        nonlocal total
        line = maybe_typographic(line, quotes)
        key = hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest()
        if key in seen or "\n" in line:
            return False
        seen.add(key)
        split = "heldout" if heldout(line) else "train"
        data = line + "\n"
        files[split].write(data)
        digests[split].update(data.encode("utf-8"))
        s = stats.setdefault(name, {"lines": 0, "chars": 0, "heldout_lines": 0})
        s["lines"] += 1
        s["chars"] += len(line)
        s["heldout_lines"] += split == "heldout"
        total += len(line)
        return True

    try:
        named: list[tuple[str, Iterable[str]]] = [(s.name, s.reader()) for s in sources]
        if user_dir is not None:
            named.append(("user:" + user_dir.name, _user_documents(user_dir)))
        for name, lines in named:
            try:
                for para in lines:
                    for line in split_long(para):
                        if emit(name, line) and len(real_sentences) < 200_000 and gens.rng.random() < .05:
                            real_sentences.append(line)
                        if max_chars and total >= max_chars * (1 - synthetic_share):
                            break
                    if max_chars and total >= max_chars * (1 - synthetic_share):
                        break
            except CorpusError as exc:
                raise CorpusError(f"source {name}: {exc}; install it with: apt-get install "
                                  f"{SOURCE_PACKAGES}") from None
            if progress:
                progress(name, total)
        real_total = total
        if synthetic_share >= 1:
            if not max_chars:
                raise CorpusError("a corpus made by the generators alone needs max_chars")
            target = max_chars
        else:
            target = int(real_total * synthetic_share / (1 - synthetic_share))
        made = 0
        while made < target:
            host = gens.rng.choice(real_sentences) if real_sentences and gens.rng.random() < .5 else None
            line = gens.sentence(host)[:MAX_LINE]
            if emit("generated", line):
                made += len(line)
        if progress:
            progress("generated", total)
    finally:
        for fh in files.values():
            fh.close()
    manifest = {
        "seed": seed,
        "synthetic_share": synthetic_share,
        "heldout_percent": HELDOUT_PERCENT,
        "sources": {s.name: {"package": s.package, "licence": s.licence, "about": s.reader.__doc__}
                    for s in sources},
        "stats": stats,
        "chars": total,
        "sha256": {k: v.hexdigest() for k, v in digests.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line:
                yield line


def corpus_digest(corpus_dir: Path) -> str:
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    return manifest["sha256"]["train"]


def default_corpus_dir() -> Path:
    return Path(os.environ.get("BRAILLEJOBS_CORPUS", "corpus"))
