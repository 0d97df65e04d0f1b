import os

from braillejobs.inputs import expand, output_bases, safe_relpath


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


def test_unreadable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("a")
    os.chmod(locked, 0)
    try:
        items = expand([str(locked)])
    finally:
        os.chmod(locked, 0o755)
    if os.geteuid() != 0:  # root reads anything
        assert items[0].error and "permission denied" in items[0].error


def test_output_names_are_safe_and_never_collide():
    assert safe_relpath("../../etc/passwd") == "etc/passwd"
    assert safe_relpath("/abs/x.txt") == "abs/x.txt"
    assert safe_relpath("a\x00b/..hidden") == "a_b/hidden"
    assert output_bases(["a.txt", "sub/b.md", "c"]) == ["a", "sub/b", "c"]
    assert output_bases(["n.txt", "n.md", "N.html"]) == ["n.txt", "n.md", "N.html"]
    assert output_bases(["x/a.txt", "x/a.txt"]) == ["x/a.txt", "x/a.txt-2"]
