"""Hostile and broken input: every good document is indexed, every bad one is skipped with a one-line
reason, and `qa index` never dies, never hangs and keeps its memory bounded. The broken and large
files are generated here, at test time."""

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from packaged_documents import epub, keepers_docx, tides_odt, zip_bytes

from qa import Retriever, build_index
from qa.config import MAX_TEXT_BYTES
from qa.errors import UnsupportedDocument
from qa.read import parse_process
from qa.read.files import SourceFile
from qa.read.formats import decode_text
from qa.read.parse_process import load_document

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.slow
BIG_FILE_BYTES = 200 * 10**6
PEAK_RSS_LIMIT_MB = 1500
"""A run that read the 200 MB file would hold it several times over (bytes, text, sentences)."""


def stop_the_reader(folder: Path) -> None:
    """Start the reader process, then stop it (SIGSTOP): like a parser stuck on a file, it answers
    nothing until it is killed."""
    (folder / ".start.txt").write_text("Starts the reader.")
    load_document(SourceFile(folder / ".start.txt", ".start.txt", str(folder)), timeout=30)
    os.kill(parse_process._READER._process.pid, signal.SIGSTOP)


def write_big_text(path: Path, size: int) -> None:
    line = b"This line of a very large text file repeats until the file holds two hundred megabytes.\n"
    block = line * (2**20 // len(line))
    with open(path, "wb") as handle:
        while handle.tell() + len(block) <= size:
            handle.write(block)
        handle.write(line * ((size - handle.tell()) // len(line)))


GOOD = {  # id -> a phrase its indexed text must contain
    "tides.txt": "Moon's gravity",
    "honeybees.md": "waggle dance",
    "volcano.html": "column of ash",
    "lighthouse.pdf": "built in 1871",
    "latin-1.txt": "Caf\u00e9 cr\u00e8me co\u00fbte 3 \u20ac",
    "utf-16.txt": "Z\u00fcrich \u65e5\u672c",
    "invalid-utf-8.txt": "Stra\u00dfe in M\u00fcnchen",
    "nested.html": "owls hoot at night",
    "my notes with spaces.txt": "spaces in the name",
    "it's \"quoted\".md": "quotes in the name",
    "caf\u00e9 \u00fc \u65e5\u672c.txt": "non-ASCII name",
    "na\ufffdve-latin-1-name.txt": "not UTF-8",
    "keepers.docx": "painted white with a red band",
    "tides.odt": "Spring tides come twice a month",
    "lamp.epub": "A gale broke the glass",
}
BAD = {  # name -> the start of its reason
    "empty.txt": "empty file",
    "binary.txt": "binary file",
    "truncated.pdf": "not a readable PDF",
    "locked.pdf": "encrypted PDF (password protected)",
    "scanned.pdf": "PDF has no text layer",
    "huge.txt": "file too large (191 MiB; the limit is 16 MiB ($QA_MAX_TEXT_MB)); split it into smaller files",
    "a-loop.txt": "can't read file: Too many levels of symbolic links",
    "pipe.txt": "not a regular file",
    "loop": "folder link loop, not followed",
    "bomb.docx": "not a readable Word document (its archive would unpack to 64 MiB: a zip bomb?)",
    "escape.epub": "not a readable EPUB book (a part of its archive is named outside it)",
    "fake.odt": "not a readable OpenDocument file (not a zip archive)",
    "notes.xyz": "unsupported file type .xyz, not read (qa reads .txt",
}


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path_factory.mktemp("hostile")
    for name in ("tides.txt", "honeybees.md", "volcano.html", "lighthouse.pdf"):
        shutil.copy(DATA / name, folder / name)
    (folder / "latin-1.txt").write_bytes("Prix du caf\u00e9\n\nCaf\u00e9 cr\u00e8me co\u00fbte 3 \u20ac \u00e0 la gare, "
                                         "d\u00e9j\u00e0 servi.".encode("cp1252"))
    (folder / "utf-16.txt").write_text("Cities\n\nZ\u00fcrich \u65e5\u672c is a test of UTF-16 text.",
                                       encoding="utf-16")
    (folder / "invalid-utf-8.txt").write_bytes("Stra\u00dfe in M\u00fcnchen is long.".encode() + b" \xff\xfe "
                                               + "Gr\u00fc\u00dfe.".encode())
    (folder / "nested.html").write_text("<html><body>" + "<div>" * 10_000 + "<p>The fact is that owls hoot at night.</p>"
                                        + "</div>" * 10_000 + "</body></html>")
    (folder / "my notes with spaces.txt").write_text("A file with spaces in the name.")
    (folder / "it's \"quoted\".md").write_text("# Quoted\n\nA file with quotes in the name.")
    (folder / "caf\u00e9 \u00fc \u65e5\u672c.txt").write_text("A file with a non-ASCII name.")
    (folder / os.fsdecode(b"na\xefve-latin-1-name.txt")).write_text("A file whose name is not UTF-8.")
    (folder / "keepers.docx").write_bytes(keepers_docx())
    (folder / "tides.odt").write_bytes(tides_odt())
    (folder / "lamp.epub").write_bytes(epub(["<h1>Storms</h1><p>A gale broke the glass twice that winter.</p>"]))

    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(random.Random(5).randbytes(64 * 1024))
    pdf = (DATA / "lighthouse.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt("secret")
    with open(folder / "locked.pdf", "wb") as handle:
        writer.write(handle)
    Image.new("RGB", (600, 800), "white").save(folder / "scanned.pdf")
    write_big_text(folder / "huge.txt", BIG_FILE_BYTES)
    bomb = {"[Content_Types].xml": "<Types/>", "word/document.xml": bytes(64 << 20)}  # 64 MiB of zeros, 64 kB packed
    (folder / "bomb.docx").write_bytes(zip_bytes(bomb))
    (folder / "escape.epub").write_bytes(epub(["<p>Text</p>"], extra={"../../outside.xhtml": "<p>Outside</p>"}))
    (folder / "fake.odt").write_bytes(random.Random(6).randbytes(4096))
    (folder / "notes.xyz").write_text("Notes in a format qa does not read.")
    os.symlink("b-loop.txt", folder / "a-loop.txt")
    os.symlink("a-loop.txt", folder / "b-loop.txt")
    os.symlink(".", folder / "loop")
    os.mkfifo(folder / "pipe.txt")
    (folder / "unreadable.txt").write_text("Nobody may read this file about unreadable secrets.")
    os.chmod(folder / "unreadable.txt", 0)
    return folder


@pytest.fixture(scope="module")
def hostile_run(hostile_folder, tmp_path_factory):
    """`qa index --json` over the folder, in a subprocess whose peak memory is measured."""
    index = tmp_path_factory.mktemp("hostile-index")
    measure = ("import resource, subprocess, sys\n"
               "code = subprocess.call(sys.argv[1:])\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, file=sys.stderr)\n"
               "sys.exit(code)\n")
    done = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "qa", "index", str(hostile_folder),
         "--index-dir", str(index), "--json", "--no-progress"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    peak_mb = int(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout), index, peak_mb


def test_every_good_document_is_indexed_with_its_text(hostile_run, embedder):
    report, index, _ = hostile_run
    retriever = Retriever.load(index, embedder=embedder)
    indexed = {d.source for d in retriever.documents()}
    assert set(GOOD) <= indexed
    for source, phrase in GOOD.items():
        assert phrase in retriever.document_text(source), source
    assert report["added"] == len(indexed)
    assert retriever.ask("What do owls do at night?").quotes[0].source == "nested.html"


def test_every_bad_file_is_skipped_with_a_one_line_reason(hostile_run):
    report, _, _ = hostile_run
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    for name, reason in BAD.items():
        assert reasons.get(name, "").startswith(reason), (name, reasons.get(name))
    assert all("\n" not in s["path"] + s["reason"] for s in report["skipped"])
    assert set(reasons) - set(BAD) <= {"b-loop.txt", "unreadable.txt"}


def without_root_privileges() -> list[str]:
    """The command prefix that runs a process bound by file permissions: root, by its capabilities,
    reads a chmod 000 file; without them (setpriv) it can't, like any other user."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.fail("running as root without setpriv: can't check unreadable files")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_an_unreadable_file_is_skipped(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "readable.txt").write_text("Anyone may read this note about open doors.")
    (docs / "unreadable.txt").write_text("Nobody may read this file about unreadable secrets.")
    os.chmod(docs / "unreadable.txt", 0)
    done = subprocess.run(
        [*without_root_privileges(), sys.executable, "-m", "qa", "index", str(docs), "--index-dir",
         str(tmp_path / "idx"), "--json", "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert [(Path(s["path"]).name, s["reason"]) for s in report["skipped"]] == [
        ("unreadable.txt", "can't read file: Permission denied")]
    assert report["added"] == 1


def test_the_200_mb_file_is_refused_unread_and_memory_stays_bounded(hostile_run):
    report, _, peak_mb = hostile_run
    assert any(s["path"].endswith("huge.txt") for s in report["skipped"])
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak memory {peak_mb} MB"


def test_a_file_that_parses_too_long_is_abandoned_and_the_next_one_is_read(tmp_path):
    (tmp_path / "slow.txt").write_text("The reader never answers for this one.")
    (tmp_path / "fine.txt").write_text("A fine file after a slow one.")
    stop_the_reader(tmp_path)
    with pytest.raises(UnsupportedDocument, match=r"^took longer than 0.5 s to read \(\$QA_READ_TIMEOUT\); skipped$"):
        load_document(SourceFile(tmp_path / "slow.txt", "slow.txt", str(tmp_path)), timeout=0.5)
    document = load_document(SourceFile(tmp_path / "fine.txt", "fine.txt", str(tmp_path)), timeout=30)
    assert document.text == "A fine file after a slow one."


def test_the_time_limit_applies_to_a_whole_build(tmp_path, embedder, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a-slow.txt").write_text("The reader never answers for this one.")  # read first
    (docs / "b-fine.txt").write_text("A fine file after a slow one.")
    monkeypatch.setenv("QA_READ_TIMEOUT", "1")

    def checkpoint(point: str) -> None:
        if point == "before-embedding":  # the files are about to be read
            stop_the_reader(tmp_path)

    report = build_index([docs], tmp_path / "idx", embedder=embedder, progress=False, checkpoint=checkpoint)
    assert report.documents == 1
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("a-slow.txt", "took longer than 1 s to read ($QA_READ_TIMEOUT); skipped")]


def test_a_text_file_over_the_limit_is_refused_and_the_limit_can_be_raised(tmp_path, embedder, monkeypatch):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    (docs / "small.txt").write_text("A small file.")
    (docs / "big.txt").write_text("Words of a longer file. " * 1000)  # 24,000 bytes
    monkeypatch.setenv("QA_MAX_TEXT_MB", "0.01")
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.documents, [(Path(s.path).name, s.reason) for s in report.skipped]) == (1, [
        ("big.txt", "file too large (0.0229 MiB; the limit is 0.01 MiB ($QA_MAX_TEXT_MB)); split it into smaller files")])
    monkeypatch.setenv("QA_MAX_TEXT_MB", "1")
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.added, report.unchanged, report.skipped, report.documents) == (1, 1, [], 2)
    assert MAX_TEXT_BYTES == 16 * 2**20


def test_utf_8_with_a_few_damaged_bytes_keeps_its_good_characters():
    data = "Stra\u00dfe in M\u00fcnchen.".encode() + b"\xff" + " Gr\u00fc\u00dfe".encode()
    assert decode_text(data) == "Stra\u00dfe in M\u00fcnchen.\ufffd Gr\u00fc\u00dfe"
    assert decode_text("caf\u00e9 na\u00efve".encode("cp1252")) == "caf\u00e9 na\u00efve"
