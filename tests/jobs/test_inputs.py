import os

import pytest

from braillejobs.jobs.inputs import expand, output_bases, safe_relpath


def tree(root):
    (root / "docs" / "sub").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text("a")
    (root / "docs" / "b.md").write_text("b")
    (root / "docs" / "sub" / "c.txt").write_text("c")
    (root / "docs" / "image.png").write_bytes(b"\x89PNG")
    (root / "docs" / ".hidden.txt").write_text("h")
    (root / "empty").mkdir()
    return root / "docs"


def rels(items):
    return [(i.rel, i.error is None) for i in items]


def test_directory_is_recursive_with_relative_paths(tmp_path):
    docs = tree(tmp_path)
    assert rels(expand([str(docs)])) == [("a.txt", True), ("b.md", True), ("sub/c.txt", True)]


def test_file_glob_and_manifest(tmp_path):
    docs = tree(tmp_path)
    assert rels(expand([str(docs / "sub" / "c.txt")])) == [("c.txt", True)]
    assert rels(expand([str(docs / "**" / "*.txt")])) == [("a.txt", True), ("sub/c.txt", True)]
    manifest = tmp_path / "list.txt"
    manifest.write_text("# books\ndocs/b.md\n\n" + str(docs / "sub" / "c.txt") + "\n")
    assert rels(expand(["@" + str(manifest)])) == [("docs/b.md", True), ("docs/sub/c.txt", True)]


def test_the_same_file_twice_is_taken_once(tmp_path):
    docs = tree(tmp_path)
    items = expand([str(docs / "a.txt"), str(docs), str(docs / "a.txt")])
    assert [i.rel for i in items] == ["a.txt", "b.md", "sub/c.txt"]


def test_bad_paths_become_one_line_errors(tmp_path):
    tree(tmp_path)
    items = expand([str(tmp_path / "missing.txt"), str(tmp_path / "empty"),
                    str(tmp_path / "nothing" / "*.txt"), "@" + str(tmp_path / "no-list.txt")])
    errors = [i.error for i in items]
    assert all(e and "\n" not in e for e in errors)
    assert "missing.txt: no such file or directory" in errors[0]
    assert "empty: no documents found" in errors[1]
    assert "no file matches this pattern" in errors[2]
    assert "no-list.txt: manifest not found" in errors[3]


def test_unusable_files_are_reported(tmp_path):
    from braillejobs import config
    from braillejobs.jobs.lifecycle import _read_input

    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    items = expand([str(tmp_path / "dangling.txt"), str(tmp_path / "pipe.txt")])
    assert "dangling.txt: broken symbolic link" in items[0].error
    assert items[1].error is None
    data, error = _read_input(items[1], config.get("max_document_bytes"))
    assert data is None and "pipe.txt: not a regular file" in error


def test_unreadable_file_and_directory(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    from braillejobs import config
    from braillejobs.jobs.lifecycle import _read_input

    locked = tmp_path / "locked"
    locked.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    os.chmod(secret, 0)
    os.chmod(locked, 0)
    try:
        items = expand([str(locked), str(secret)])
        assert "permission denied" in items[0].error
        assert "permission denied" in _read_input(items[1], config.get("max_document_bytes"))[1]
    finally:
        os.chmod(locked, 0o755)
        os.chmod(secret, 0o644)


def test_output_names_are_safe_and_never_collide():
    assert safe_relpath("../../etc/passwd") == "etc/passwd"
    assert safe_relpath("/abs/x.txt") == "abs/x.txt"
    assert safe_relpath("a\x00b/..hidden") == "a_b/hidden"
    assert output_bases(["a.txt", "sub/b.md", "c"]) == ["a", "sub/b", "c"]
    assert output_bases(["n.txt", "n.md", "N.html"]) == ["n.txt", "n.md", "N.html"]
    assert output_bases(["x/a.txt", "x/a.txt"]) == ["x/a.txt", "x/a.txt-2"]


def test_output_names_are_compared_in_the_form_they_are_written():
    """A name that cleaning changes again after its extension is cut ("a .txt" -> "a ") must
    not meet another document's name once written: each document keeps its own file."""
    bases = output_bases(["\x1f.txt", ": .txt"])
    assert [safe_relpath(b) for b in bases] == bases
    assert len({b.lower() for b in bases}) == 2
    long = "x" * 199 + ".txt"  # a "-2" must survive the byte limit on a name
    bases = output_bases([f"one/{long}", f"one/{long}"])
    assert [safe_relpath(b) for b in bases] == bases
    assert len({b.lower() for b in bases}) == 2


@pytest.mark.parametrize("form", ["directory", "glob", "recursive glob", "glob of folders"])
def test_a_link_out_of_the_searched_folder_is_refused_however_it_is_named(tmp_path, form):
    """A symbolic link planted in a folder, pointing outside it, is refused whether the folder is
    given as a directory or through a glob (before, ``'DIR/*.txt'`` translated the outside file)."""
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not yours")
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "ok.txt").write_text("fine")
    (folder / "sub" / "ok2.txt").write_text("fine")
    (folder / "link-out.txt").symlink_to(secret)
    (folder / "sub" / "link-dir").symlink_to(secret.parent, target_is_directory=True)
    (folder / "link-in.txt").symlink_to(folder / "ok.txt")
    arg = {"directory": str(folder), "glob": str(folder / "*.txt"),
           "recursive glob": str(folder / "**" / "*.txt"), "glob of folders": str(folder / "*")}
    items = expand([arg[form]])
    read = {os.path.realpath(i.source) for i in items if i.error is None}
    assert str(secret) not in read
    refused = [i for i in items if i.error]
    assert any("link-out.txt: symbolic link to a file outside" in i.error for i in refused)
    assert os.path.realpath(folder / "ok.txt") in read
