"""Uploads land inside the documents folder only, never replace a file, and are size-capped."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ui.upload import LEDGER, delete_upload, free_destination, safe_name, save_uploads


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
    saved, refused = save_uploads([upload(tmp_path, "a.txt", b"alpha")], docs, tmp_path / "index")
    assert [(s.path, s.written, s.note) for s in saved] == [(docs / "a.txt", True, "")] and refused == []
    assert (docs / "a.txt").read_bytes() == b"alpha"
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt"]  # no temporary file, and qa's ledger is elsewhere
    assert [p.name for p in (tmp_path / "index").iterdir()] == [LEDGER]


def test_traversal_names_cannot_leave_the_folder(tmp_path):
    docs = tmp_path / "deep" / "docs"
    encoded = upload(tmp_path, "..%2f..%2fx.txt", b"x")
    saved, refused = save_uploads([encoded], docs, tmp_path / "index")
    assert saved == [] and refused == [("..%2f..%2fx.txt", "not a usable file name")]
    assert free_destination(docs, safe_name("../../x.txt"), encoded) == docs / "x.txt"
    assert list(docs.iterdir()) == [] and not (tmp_path / "x.txt").exists()


def test_same_name_other_bytes_gets_a_new_name_said_so_and_same_bytes_is_kept(tmp_path):
    docs = tmp_path / "docs"
    save_uploads([upload(tmp_path, "a.txt", b"one")], docs, tmp_path / "index")
    saved, _ = save_uploads([upload(tmp_path, "a.txt", b"two"), upload(tmp_path, "a.txt", b"one")], docs,
                            tmp_path / "index")
    assert [(s.path.name, s.written, s.note) for s in saved] == [
        ("a (2).txt", True, "saved as a (2).txt: a different a.txt is already there"), ("a.txt", False, "")]
    assert (docs / "a.txt").read_bytes() == b"one" and (docs / "a (2).txt").read_bytes() == b"two"


def test_names_of_indexed_documents_are_not_taken(tmp_path):
    saved, _ = save_uploads([upload(tmp_path, "a.txt", b"new")], tmp_path / "docs", tmp_path / "index",
                            taken=frozenset({"a.txt"}))
    assert saved[0].path.name == "a (2).txt" and "a different a.txt" in saved[0].note


def test_only_files_this_page_saved_are_deleted(tmp_path):
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "mine.txt").write_bytes(b"the person's own file")
    saved, _ = save_uploads([upload(tmp_path, "up.txt", b"uploaded")], docs, index)
    assert not delete_upload(index, docs / "mine.txt") and (docs / "mine.txt").exists()
    (docs / "up.txt").write_bytes(b"edited since")  # no longer the bytes the page saved: not ours to delete
    assert not delete_upload(index, saved[0].path) and (docs / "up.txt").exists()
    saved, _ = save_uploads([upload(tmp_path, "up.txt", b"uploaded")], docs, index)
    assert delete_upload(index, saved[0].path) and not saved[0].path.exists()
    assert not delete_upload(index, saved[0].path)  # gone, and out of the ledger
    outside = tmp_path / "up (2).txt"
    outside.write_bytes(b"uploaded")
    assert not delete_upload(index, outside) and outside.exists()


def test_a_planted_symlink_is_not_followed(tmp_path):
    docs, outside = tmp_path / "docs", tmp_path / "outside.txt"
    docs.mkdir()
    outside.write_bytes(b"precious")
    os.symlink(outside, docs / "a.txt")
    saved, _ = save_uploads([upload(tmp_path, "a.txt", b"new")], docs, tmp_path / "index")
    assert outside.read_bytes() == b"precious"
    assert [s.path for s in saved] == [docs / "a (2).txt"]


def test_oversized_and_unsupported_uploads_are_refused_with_a_reason(tmp_path):
    docs = tmp_path / "docs"
    big, exe = upload(tmp_path, "big.txt", b"x" * 2048), upload(tmp_path, "tool.exe", b"MZ")
    saved, refused = save_uploads([big, exe], docs, tmp_path / "index", max_bytes=1024)
    assert saved == []
    assert refused[0][0] == "big.txt" and "limit" in refused[0][1]
    assert refused[1][0] == "tool.exe" and "unsupported file type" in refused[1][1]
    assert list(docs.iterdir()) == []


def test_the_page_takes_the_supported_types_from_the_library():
    from qa import DOCUMENT_SUFFIXES
    from qa.read.files import LOADERS

    assert DOCUMENT_SUFFIXES == tuple(LOADERS)
    for suffix in DOCUMENT_SUFFIXES:
        assert safe_name(f"notes{suffix.upper()}") == f"notes{suffix.upper()}"


def test_a_ledger_an_older_qa_left_among_the_documents_moves_to_the_index_folder(tmp_path):
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "old.txt").write_bytes(b"uploaded long ago")
    (docs / LEDGER).write_text(json.dumps({"old.txt": hashlib.sha256(b"uploaded long ago").hexdigest()}))
    save_uploads([upload(tmp_path, "new.txt", b"new")], docs, index)
    assert sorted(p.name for p in docs.iterdir()) == ["new.txt", "old.txt"]
    assert delete_upload(index, docs / "old.txt") and delete_upload(index, docs / "new.txt")
    assert list(docs.iterdir()) == []
