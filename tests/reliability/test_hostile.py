"""Hostile input: every document ends with a correct translation or a clear error of its own,
no worker dies, nothing is written outside the output directory, nothing secret leaks."""

from __future__ import annotations

import io
import os
import random
import unicodedata
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.reliability.harness import REPORT
from tests.reliability.hostile import FIXTURES, docx, epub, para, plant

SECRET_TEXT = "TOPSECRETPASSPHRASE"
HYPO = hsettings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                 database=None)


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _check_outputs_inside(out: Path, written: list[Path]) -> None:
    real = out.resolve()
    for path in written:
        resolved = Path(path).resolve()
        inside = resolved == real or real in resolved.parents
        if not inside:
            REPORT.outside_writes += 1
        assert inside, f"{path} is outside {out}"
        for part in resolved.relative_to(real).parts:
            assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in part), \
                f"output name with control characters: {part!r}"
            assert len(part.encode()) <= 255


def _check_rows(rows: list[dict]) -> None:
    for r in rows:
        assert r["status"] in ("done", "failed"), r
        if r["status"] == "failed":
            assert r["error"] and r["error"].strip(), r
            assert "\n" not in r["error"].strip(), f"error on more than one line: {r}"
            assert r["path"] in r["error"] or Path(r["path"]).name in r["error"], \
                f"error does not name its document: {r}"
            assert "Traceback" not in r["error"]


def test_fixed_hostile_set_through_a_real_worker(fleet_factory, fault_redis, tmp_path):
    """The fixed hostile corpus (archives, entities, encodings, huge lines, links) submitted to
    a real worker: it survives all of it, and each document is done or failed with its reason."""
    secret = tmp_path / "secret" / "passwd.txt"
    secret.parent.mkdir()
    secret.write_text(f"root:{SECRET_TEXT}:0:0\n")
    src = tmp_path / "in"
    offered = plant(src, secret)
    big = src / "fifty-mb.txt"
    with open(big, "wb") as fh:
        fh.write(b"words and more words " * (50_000_000 // 21 + 1))
    offered.append(("fifty-mb.txt", "50 MB file"))
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          task_time_limit=120, visibility_timeout=240, documents_per_task=6,
                          max_document_bytes=20_000_000, format="unicode")
    worker = fleet.worker("hostile")
    before = _snapshot(tmp_path)
    job = fleet.submit([str(src)], format="unicode", engine="louis")
    rows = fleet.wait_finished(job, timeout=180, supervise=False)
    assert worker.alive() and worker.generation == 1, worker.log_text()[-4000:]
    REPORT.hostile_inputs += len(rows)
    kinds = dict(offered)
    for r in rows:
        REPORT.hostile_by_kind[kinds.get(PurePosixPath(r["path"]).name, "other")] += 1
    _check_rows(rows)
    fleet.check_exactly_once(rows)
    by_name = {PurePosixPath(r["path"]).name: r for r in rows}

    def failed(name, *words):
        r = by_name[name]
        assert r["status"] == "failed", r
        for w in words:
            assert w in r["error"], r["error"]

    failed("link-out.txt", "symbolic link", "outside")
    failed("fifty-mb.txt", "BRAILLEJOBS_MAX_DOCUMENT_BYTES")
    failed("bomb.docx", "zip bomb")
    failed("bomb.epub", "zip bomb")
    failed("members.docx", "parts")
    failed("nul-bytes.txt", "binary")
    for name in ("long-line.txt", "crlf.txt", "invalid-utf8.txt", "astral.txt", "empty.txt",
                 "utf16-bom.txt", "traversal.docx", "entities.html", "deep-quote.md"):
        assert by_name[name]["status"] == "done", by_name[name]
    # A link to a file of the folder is that file, taken once.
    assert "link-in.txt" not in by_name and by_name["crlf.txt"]["status"] == "done"
    assert "linked-dir" not in " ".join(by_name), "a linked folder was walked into"

    out = tmp_path / "out"
    with fleet.settings():
        from braillejobs import jobs
        fetched = jobs.fetch(job, out)
    _check_outputs_inside(out, fetched.written)
    texts = [p.read_bytes() for p in fetched.written]
    assert len(texts) == sum(r["status"] == "done" for r in rows)
    # The secret never reached a braille file, in print or in braille.
    from tests.support import louis_unicode
    secret_braille = louis_unicode(SECRET_TEXT).strip().encode()
    for data in texts:
        assert SECRET_TEXT.encode() not in data and secret_braille not in data
    # Nothing was created next to the inputs or above the output folder.
    after = _snapshot(tmp_path)
    created = {p for p in after - before if not p.startswith(("out", "fleet", "bj.db", "data"))}
    assert not created, created
    assert not (tmp_path / "escape.xhtml").exists() and not Path("/etc/evil").exists()
    # The long line is translated like liblouis translates it.
    long_line = (out / "long-line.txt").read_text(encoding="utf-8")
    assert long_line.strip() == louis_unicode("x" * 1_000_000).strip()
    assert not fleet.crashes()


# --- hypothesis: random documents through the embedded pipeline ---------------------------

WORDS = st.sampled_from("the library opens at nine and closes at five braille reader book "
                        "knowledge children 1984 2026 Mr Smith said yes no".split())
PROSE = st.lists(st.lists(WORDS, min_size=1, max_size=12).map(" ".join), min_size=1,
                 max_size=4)

HTML_TAGS = ["p", "div", "b", "i", "em", "strong", "h1", "h2", "ul", "li", "ol", "table", "tr",
             "td", "span", "blockquote", "pre", "br", "a", "script", "style", "svg", "math"]


@st.composite
def html_doc(draw):
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        choice = draw(st.integers(0, 5))
        tag = draw(st.sampled_from(HTML_TAGS))
        if choice == 0:
            parts.append(f"<{tag}>")
        elif choice == 1:
            parts.append(f"</{tag}>")
        elif choice == 2:
            parts.append(draw(st.text(max_size=30)))
        elif choice == 3:
            parts.append(draw(st.sampled_from(["&amp;", "&#0;", "&#x110000;", "&bogus;",
                                               "&nbsp;", "&#65;", "<!--", "-->", "<![CDATA[",
                                               "<!DOCTYPE x>", "<?xml?>"])))
        else:
            parts.append(" ".join(draw(st.lists(WORDS, max_size=6))))
    return "".join(parts).encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])),
                                 errors="replace")


@st.composite
def markdown_doc(draw):
    lines = []
    for _ in range(draw(st.integers(0, 20))):
        prefix = draw(st.sampled_from(["", "# ", "## ", "> ", "- ", "1. ", "    ", "```", "|",
                                       "* ", "***", ">" * 30, "  " * 10 + "- "]))
        body = draw(st.one_of(st.text(max_size=40),
                              st.lists(WORDS, max_size=8).map(" ".join)))
        lines.append(prefix + body)
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        op = rng.randint(0, 2)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1 and data:
            cut = rng.randrange(len(data))
            del data[cut:cut + rng.randint(1, 200)]
        else:
            data[rng.randrange(len(data) + 1):0] = bytes(rng.randrange(256) for _ in range(8))
    return bytes(data)


@st.composite
def archive_doc(draw):
    kind = draw(st.sampled_from(["docx", "epub"]))
    how = draw(st.integers(0, 2))
    if how == 0:  # a real fixture, damaged
        base = (FIXTURES / ("seed-library.docx" if kind == "docx" else "lighthouse.epub"))
        return kind, _mutate(base.read_bytes(), random.Random(draw(st.integers(0, 2**32))))
    if how == 1:  # a well-formed container with hostile names and text
        names = draw(st.lists(st.sampled_from(["../x.xhtml", "/abs.xhtml", "a\\b.xhtml",
                                               "c.xhtml", "..\\..\\w.xhtml", "d/../../e.xhtml",
                                               "\u202eevil.xhtml", "f\n.xhtml"]),
                              min_size=1, max_size=4, unique=True))
        text = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
        safe = text.replace("&", "&amp;").replace("<", "&lt;")
        if kind == "docx":
            return kind, docx(para(safe), extra={n: b"<x/>" for n in names})
        return kind, epub({n: f"<p>{safe}</p>" for n in names})
    buf = io.BytesIO()  # a zip with random members (repeated names too)
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
        warnings.simplefilter("ignore")
        for i in range(draw(st.integers(0, 5))):
            z.writestr(draw(st.sampled_from(["word/document.xml", "META-INF/container.xml",
                                             "content.opf", f"m{i}", "../up"])),
                       draw(st.binary(max_size=200)))
    return kind, buf.getvalue()


@st.composite
def hostile_doc(draw):
    kind = draw(st.sampled_from(["bytes", "text", "prose", "html", "markdown", "archive"]))
    if kind == "bytes":
        ext = draw(st.sampled_from([".txt", ".md", ".html", ".docx", ".epub"]))
        return kind, ext, draw(st.binary(max_size=3000)), None
    if kind == "text":
        text = draw(st.text(max_size=400))
        codec = draw(st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "latin-1", "cp1252",
                                      "utf-8-sig"]))
        return kind, ".txt", text.encode(codec, errors="replace"), None
    if kind == "prose":
        paragraphs = draw(PROSE)
        return kind, ".txt", "\n\n".join(paragraphs).encode() + b"\n", paragraphs
    if kind == "html":
        return kind, draw(st.sampled_from([".html", ".htm", ".xhtml"])), draw(html_doc()), None
    if kind == "markdown":
        return kind, ".md", draw(markdown_doc()), None
    ext, data = draw(archive_doc())
    return "archive", "." + ext, data, None


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    from tests.support import settings

    root = tmp_path_factory.mktemp("hostile-embedded")
    with settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'bj.db'}",
                  documents_per_task=7):
        yield root


def _convert_batch(root: Path, docs, tag: str):
    from braillejobs import jobs

    folder = root / f"in-{tag}"
    folder.mkdir()
    for i, (_, ext, data, _) in enumerate(docs):
        (folder / f"d{i:02d}{ext}").write_bytes(data)
    out = root / f"out-{tag}"
    result = jobs.convert([str(folder)], out,
                          jobs.JobOptions.build(format="unicode", engine="louis"))
    return folder, out, result


@given(st.lists(hostile_doc(), min_size=1, max_size=12))
@hsettings(HYPO, max_examples=250)
def test_random_hostile_documents_never_crash_the_pipeline(embedded, docs):
    from tests.support import louis_blocks

    tag = os.urandom(6).hex()
    folder, out, result = _convert_batch(embedded, docs, tag)
    REPORT.hostile_inputs += len(docs)
    for kind, *_ in docs:
        REPORT.hostile_by_kind[f"random {kind}"] += 1
    counts = result.counts
    assert counts["done"] + counts["failed"] == len(docs), counts
    assert len(result.errors) == counts["failed"]
    names = [f"d{i:02d}{ext}" for i, (_, ext, _, _) in enumerate(docs)]
    for err in result.errors:
        assert "\n" not in err.strip(), err
        assert any(err.startswith(n) or f"/{n}" in err for n in names), err
    _check_outputs_inside(out, result.written)
    written = {p.name: p for p in result.written}
    for i, (kind, ext, data, paragraphs) in enumerate(docs):
        if kind == "prose":  # plain English prose must come out exactly as liblouis gives it
            got = written[f"d{i:02d}.txt"].read_text(encoding="utf-8")
            assert got == louis_blocks(paragraphs), (paragraphs, got)


NAME_CHARS = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",))


@given(st.lists(st.text(NAME_CHARS, min_size=1, max_size=60), min_size=1, max_size=6,
                unique_by=lambda s: s.lower()))
@hsettings(HYPO, max_examples=100)
def test_hostile_file_names_stay_inside_the_output(embedded, names):
    """Names with newlines, unicode, bidi controls, dots, reserved characters, at the length
    limit: the braille lands inside the output folder under a clean, distinct name."""
    from braillejobs import jobs

    tag = os.urandom(6).hex()
    folder = embedded / f"names-{tag}"
    folder.mkdir()
    made = []
    for i, name in enumerate(names):
        fname = (name if name not in (".", "..") else f"dots{i}") + ".txt"
        if len(fname.encode()) > 250:
            continue
        try:
            (folder / fname).write_text(f"Document {i}.\n")
        except OSError:
            continue
        made.append(fname)
    REPORT.hostile_inputs += len(made)
    REPORT.hostile_by_kind["hostile file names"] += len(made)
    if not made:
        return
    out = embedded / f"out-{tag}"
    paths = [str(folder / m) for m in made]
    result = jobs.convert(paths, out, jobs.JobOptions.build(format="unicode"))
    hidden = [m for m in made if m.startswith(".")]
    assert result.counts["done"] == len(made), result.errors
    assert len(result.written) == len(made), (made, result.written, hidden)
    assert len({p.resolve() for p in result.written}) == len(made)
    _check_outputs_inside(out, result.written)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
@hsettings(HYPO, max_examples=300)
def test_output_names_from_any_relative_path(rel):
    from braillejobs.jobs.inputs import output_bases, safe_relpath

    REPORT.hostile_inputs += 1
    REPORT.hostile_by_kind["submitted path names"] += 1
    safe = safe_relpath(rel)
    root = Path("/srv/out")
    target = Path(os.path.normpath(root / safe))
    assert target != root and root in target.parents, (rel, safe)
    for part in PurePosixPath(safe).parts:
        assert part not in ("", ".", "..") and not part.startswith(".")
        assert len(part.encode()) <= 200
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in part)
    first, second = output_bases([rel, rel])
    assert first.lower() != second.lower()
    assert safe_relpath(first) == first and safe_relpath(second) == second  # as written


def test_planted_link_in_the_output_folder_is_not_followed(embedded, tmp_path):
    from braillejobs import jobs

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("The first book.\n")
    (src / "b.txt").write_text("The second book.\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(outside, target_is_directory=True)
    (out / "b.txt.part").symlink_to(outside / "clobbered")
    (out / "b.txt").symlink_to(outside / "target-of-b")
    result = jobs.convert([str(src)], out, jobs.JobOptions.build(format="unicode"))
    REPORT.hostile_inputs += 3
    REPORT.hostile_by_kind["planted output links"] += 3
    assert list(outside.iterdir()) == [], "a file was written through a planted link"
    assert (out / "b.txt").is_file() and not (out / "b.txt").is_symlink()
    assert any("sub/a.txt" in e and "cannot write" in e for e in result.errors), result.errors
    _check_outputs_inside(out, result.written)


def test_dotdot_and_links_in_submitted_paths(embedded, tmp_path):
    from braillejobs import jobs

    secret = tmp_path / "private" / "notes.txt"
    secret.parent.mkdir()
    secret.write_text(f"{SECRET_TEXT}\n")
    shared = tmp_path / "shared"
    (shared / "deep").mkdir(parents=True)
    (shared / "deep" / "ok.txt").write_text("Fine.\n")
    (shared / "deep" / "up.txt").symlink_to(Path("..") / ".." / "private" / "notes.txt")
    (shared / "folder-link").symlink_to(secret.parent, target_is_directory=True)
    manifest = shared / "list.txt"
    manifest.write_text("deep/ok.txt\n../shared/deep/../deep/ok.txt\n"
                        "deep/../../private/../shared/deep/ok.txt\n")
    out = tmp_path / "out"
    result = jobs.convert([str(shared), f"@{manifest}"], out,
                          jobs.JobOptions.build(format="unicode"))
    REPORT.hostile_inputs += 5
    REPORT.hostile_by_kind["symlinks and .. in submitted paths"] += 5
    assert any("up.txt" in e and "outside" in e for e in result.errors), result.errors
    for p in result.written:
        assert SECRET_TEXT not in p.read_text()
    assert not any("folder-link" in str(p) for p in result.written)
    _check_outputs_inside(out, result.written)
