"""Uploads land inside the documents folder only, never replace a file, and are size-capped."""

from __future__ import annotations

import os

import pytest

from ui.upload import free_destination, safe_name, save_uploads


@pytest.mark.parametrize("given, kept", [
    ("notes.txt", "notes.txt"), ("../../x.txt", "x.txt"), ("..\\..\\x.md", "x.md"),
    ("/etc/cron.d/job.html", "job.html"), ("C:\\Users\\me\\r.PDF", "r.PDF"), (" a b.txt ", "a b.txt"),
])
def test_only_the_last_name_component_is_kept(given, kept):
    assert safe_name(given) == kept


@pytest.mark.parametrize("given", ["", "..", "../", ".bashrc.txt", "a\x00.txt", "x\n.txt", "run.exe", "notes"])
def test_unusable_names_are_refused(given):
    with pytest.raises(ValueError):
        safe_name(given)


def upload(tmp_path, name: str, data: bytes):
    folder = tmp_path / "browser-upload" / str(len(list(tmp_path.rglob("*"))))
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    return folder / name


def test_uploads_are_copied_into_the_documents_folder(tmp_path):
    docs = tmp_path / "docs"
    saved, refused = save_uploads([upload(tmp_path, "a.txt", b"alpha")], docs)
    assert saved == [docs / "a.txt"] and refused == []
    assert (docs / "a.txt").read_bytes() == b"alpha"
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt"]  # no temporary file left


def test_traversal_names_cannot_leave_the_folder(tmp_path):
    docs = tmp_path / "deep" / "docs"
    encoded = upload(tmp_path, "..%2f..%2fx.txt", b"x")
    saved, refused = save_uploads([encoded], docs)
    assert saved == [] and refused == [("..%2f..%2fx.txt", "not a usable file name")]
    assert free_destination(docs, safe_name("../../x.txt"), encoded) == docs / "x.txt"
    assert list(docs.iterdir()) == [] and not (tmp_path / "x.txt").exists()


def test_same_name_other_bytes_gets_a_new_name_and_same_bytes_is_kept(tmp_path):
    docs = tmp_path / "docs"
    save_uploads([upload(tmp_path, "a.txt", b"one")], docs)
    saved, _ = save_uploads([upload(tmp_path, "a.txt", b"two"), upload(tmp_path, "a.txt", b"one")], docs)
    assert [p.name for p in saved] == ["a (2).txt", "a.txt"]
    assert (docs / "a.txt").read_bytes() == b"one" and (docs / "a (2).txt").read_bytes() == b"two"


def test_a_planted_symlink_is_not_followed(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside.txt"
    docs.mkdir()
    outside.write_bytes(b"precious")
    os.symlink(outside, docs / "a.txt")
    saved, _ = save_uploads([upload(tmp_path, "a.txt", b"new")], docs)
    assert outside.read_bytes() == b"precious"
    assert saved == [docs / "a (2).txt"]


def test_oversized_and_unsupported_uploads_are_refused_with_a_reason(tmp_path):
    docs = tmp_path / "docs"
    big, exe = upload(tmp_path, "big.txt", b"x" * 2048), upload(tmp_path, "tool.exe", b"MZ")
    saved, refused = save_uploads([big, exe], docs, max_bytes=1024)
    assert saved == []
    assert refused[0][0] == "big.txt" and "limit" in refused[0][1]
    assert refused[1][0] == "tool.exe" and "unsupported file type" in refused[1][1]
    assert list(docs.iterdir()) == []
