"""Crash safety: `qa index` killed at any point, run twice at once, rebuilt under a serving Retriever,
and index folders damaged on disk. The kills are real SIGKILLs of a real `qa index` process, stopped
at named checkpoints of `build_index` (tests/paused_index.py)."""

import ast
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import IndexCorrupt, Retriever, build_index
from qa.cli import cli
from qa.index.folder import LOCK
from qa.index.manifest import MANIFEST

OWLS = "Barn owls swallow their prey whole and later cough up pellets of fur and bone."
WIND_TIDES = "Tides are caused by the wind pushing the water, according to this changed file."
TIDES_QUESTION = "What does the Moon's gravity do to the ocean?"
OWLS_QUESTION = "What do barn owls cough up?"


PAUSED_INDEX = Path(__file__).with_name("paused_index.py")


class PausedIndex:
    """`build_index` in a subprocess, stopped at a checkpoint (tests/paused_index.py)."""

    def __init__(self, docs: Path, index: Path, point: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PAUSED_INDEX), point, str(docs), str(index)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._wait_for(f"qa: paused at {point}".encode())

    def _wait_for(self, marker: bytes, timeout: float = 300) -> None:
        seen, deadline = b"", time.monotonic() + timeout
        fd = self.process.stderr.fileno()
        while marker not in seen:
            assert time.monotonic() < deadline, f"qa index never reached the pause point: {seen[-2000:]!r}"
            if select.select([fd], [], [], 1)[0]:
                chunk = os.read(fd, 65536)
                assert chunk, f"qa index exited before the pause point: {seen[-2000:]!r}"
                seen += chunk

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        self._close()

    def resume(self) -> dict:
        self.process.send_signal(signal.SIGUSR1)
        stdout, stderr = self.process.communicate(timeout=300)
        assert self.process.returncode == 0, stderr.decode()
        return json.loads(stdout)

    def _close(self) -> None:
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture()
def indexed(tmp_path, corpus_dir, embedder):
    """A built index of the corpus, and the docs folder changed since: tides.txt edited, owls.txt added."""
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    (docs / "tides.txt").write_text(WIND_TIDES)
    (docs / "owls.txt").write_text(OWLS)
    return docs, index


def assert_old_answers(index: Path, embedder) -> None:
    retriever = Retriever.load(index, embedder=embedder)
    assert "owls.txt" not in {d.source for d in retriever.documents()}
    assert "Moon's gravity" in retriever.document_text("tides.txt")
    answer = retriever.ask(TIDES_QUESTION)
    assert answer.answered and answer.quotes[0].source == "tides.txt" and "Moon" in answer.quotes[0].text
    assert not any(q.source == "owls.txt" for q in retriever.ask(OWLS_QUESTION).quotes)


def assert_new_answers(index: Path, embedder) -> None:
    retriever = Retriever.load(index, embedder=embedder)
    assert retriever.document_text("tides.txt") == WIND_TIDES
    answer = retriever.ask(OWLS_QUESTION)
    assert answer.answered and answer.quotes[0].source == "owls.txt"
    assert all("Moon's gravity" not in hit.text for hit in retriever.search(TIDES_QUESTION, k=100))


def assert_only_current_files(index: Path) -> None:
    manifest = json.loads((index / MANIFEST).read_text())
    assert {p.name for p in index.iterdir()} == {MANIFEST, LOCK, *manifest["files"].values()}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before-embedding", "embedding", "after-embedding", "swap"])
def test_killed_before_the_swap_the_old_index_answers_and_a_rerun_finishes(indexed, embedder, point):
    docs, index = indexed
    manifest = (index / MANIFEST).read_bytes()
    PausedIndex(docs, index, point).kill()

    assert (index / MANIFEST).read_bytes() == manifest
    assert_old_answers(index, embedder)

    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 0, 4)
    assert_new_answers(index, embedder)
    assert_only_current_files(index)  # the killed run's half-written files are gone


@pytest.mark.slow
def test_killed_after_the_swap_the_new_index_answers_and_a_rerun_tidies_up(indexed, embedder):
    docs, index = indexed
    old_files = set(json.loads((index / MANIFEST).read_text())["files"].values())
    PausedIndex(docs, index, "after-swap").kill()

    assert old_files <= {p.name for p in index.iterdir()}  # killed before it deleted them
    assert_new_answers(index, embedder)
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 6)
    assert_new_answers(index, embedder)


@pytest.mark.slow
def test_a_second_concurrent_run_refuses_with_a_message(indexed, embedder):
    docs, index = indexed
    first = PausedIndex(docs, index, "before-embedding")
    try:
        result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(index), "--no-progress"])
        assert result.exit_code == 1
        assert result.output == (f"Error: Another `qa index` (pid {first.process.pid}) is writing {index}/. "
                                 "Wait for it to finish, then try again.\n")
    finally:
        first.kill()
    assert_old_answers(index, embedder)
    result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(index), "--no-progress"])
    assert result.exit_code == 0, result.output  # the kernel dropped the dead run's lock
    assert_new_answers(index, embedder)


@pytest.mark.slow
def test_a_serving_retriever_answers_during_a_rebuild_and_then_from_the_new_index(indexed, embedder):
    docs, index = indexed
    retriever = Retriever.load(index, embedder=embedder)
    before = retriever.ask(TIDES_QUESTION)
    assert "Moon" in before.quotes[0].text

    run = PausedIndex(docs, index, "swap")  # the new build's files are all written
    assert retriever.ask(TIDES_QUESTION).quotes == before.quotes
    assert "Moon's gravity" in retriever.document_text("tides.txt")
    report = run.resume()
    assert (report["added"], report["updated"]) == (1, 1)

    # No reload() call and no restart: the next question is answered from the new build.
    answer = retriever.ask(OWLS_QUESTION)
    assert answer.answered and answer.quotes[0].source == "owls.txt"
    assert retriever.document_text("tides.txt") == WIND_TIDES
    assert retriever.reload() is False


def damaged_copy(index_dir: Path, tmp_path: Path, name: str) -> tuple[Path, dict]:
    copy = tmp_path / name
    shutil.copytree(index_dir, copy)
    return copy, json.loads((copy / MANIFEST).read_text())


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate passages", r"passages-.*\.faiss is not a readable vector index"),
        ("truncate sentences", r"sentences-.*\.faiss is not a readable vector index"),
        ("delete store", r"store-.*\.sqlite is missing"),
        ("truncate store", r"store-.*\.sqlite can't be read|inconsistent"),
        ("manifest count", r"inconsistent \(vectors"),
        ("manifest key", r"manifest\.json is malformed"),
        ("manifest file name", r"passages-nonexistent\.faiss is missing"),
        ("manifest not json", r"manifest\.json can't be read"),
    ],
)
def test_a_damaged_index_is_detected_with_what_is_wrong_and_how_to_rebuild(tmp_path, index_dir, damage, message):
    folder, manifest = damaged_copy(index_dir, tmp_path, "damaged")
    files = {name: folder / file for name, file in manifest["files"].items()}
    if damage.startswith("truncate"):
        path = files[damage.split()[1]]
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "delete store":
        files["store"].unlink()
    elif damage == "manifest count":
        edit_manifest(folder, lambda m: m.update(passages=m["passages"] + 1))
    elif damage == "manifest key":
        edit_manifest(folder, lambda m: m.pop("dimension"))
    elif damage == "manifest file name":
        edit_manifest(folder, lambda m: m["files"].update(passages="passages-nonexistent.faiss"))
    else:
        (folder / MANIFEST).write_text((folder / MANIFEST).read_text()[:100])

    with pytest.raises(IndexCorrupt, match=message) as info:
        Retriever.load(folder)
    assert str(info.value).endswith(f"Rebuild it with `qa index --rebuild --index-dir {folder}/`.")
    result = CliRunner().invoke(cli, ["ask", "What causes tides?", "--index-dir", str(folder)])
    assert result.exit_code == 1
    assert result.output == f"Error: {info.value}\n"


def sql(folder: Path, statement: str, *args) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    db = sqlite3.connect(folder / manifest["files"]["store"])
    db.execute(statement, args)
    db.commit()
    db.close()


def rewrite_vectors(folder: Path, name: str, change) -> None:
    import faiss

    path = folder / json.loads((folder / MANIFEST).read_text())["files"][name]
    faiss.write_index(change(faiss.read_index(str(path))), str(path))


def rewrite_bm25(folder: Path, change) -> None:
    import numpy as np

    path = folder / json.loads((folder / MANIFEST).read_text())["files"]["lexical"]
    with np.load(path) as stored:
        arrays = dict(stored)
    change(arrays)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def without_id_map(index):
    import faiss

    plain = faiss.IndexFlatIP(index.d)
    plain.add(index.index.reconstruct_n(0, index.ntotal))
    return plain


def with_unknown_ids(index):
    import faiss
    import numpy as np

    ids = faiss.vector_to_array(index.id_map)
    vectors = index.index.reconstruct_n(0, index.ntotal)
    fresh = faiss.IndexIDMap2(faiss.IndexFlatIP(index.d))
    fresh.add_with_ids(vectors, (ids + 10_000).astype(np.int64))
    return fresh


TAMPERING = {
    "column renamed": lambda f: sql(f, "ALTER TABLE passages RENAME COLUMN sentences TO spans"),
    "table dropped": lambda f: sql(f, "DROP TABLE sentences"),
    "documents not an object": lambda f: edit_manifest(f, lambda m: m.update(documents=["tides.txt"])),
    "a document record not an object": lambda f: edit_manifest(f, lambda m: m["documents"].update({"tides.txt": 7})),
    "a title missing": lambda f: edit_manifest(f, lambda m: m["documents"]["tides.txt"].pop("title")),
    "a document record missing": lambda f: edit_manifest(f, lambda m: m["documents"].pop("tides.txt")),
    "dimension as text": lambda f: edit_manifest(f, lambda m: m.update(dimension="384")),
    "files not an object": lambda f: edit_manifest(f, lambda m: m.update(files="store.sqlite")),
    "vectors without an id map": lambda f: rewrite_vectors(f, "passages", without_id_map),
    "vectors with unknown ids": lambda f: rewrite_vectors(f, "passages", with_unknown_ids),
    "sentence vectors with unknown ids": lambda f: rewrite_vectors(f, "sentences", with_unknown_ids),
    "BM25 rows out of range": lambda f: rewrite_bm25(f, lambda a: a.update(indices=a["indices"] + 10_000)),
    "BM25 pointers cut": lambda f: rewrite_bm25(f, lambda a: a.update(indptr=a["indptr"][:-3])),
    "BM25 ids shuffled away": lambda f: rewrite_bm25(f, lambda a: a.update(ids=a["ids"] + 10_000)),
    "BM25 file empty": lambda f: (f / json.loads((f / MANIFEST).read_text())["files"]["lexical"]).write_bytes(b""),
    "BM25 array missing": lambda f: rewrite_bm25(f, lambda a: a.pop("vocabulary")),
    "pages not JSON": lambda f: sql(f, "UPDATE documents SET pages = '[[1, 0,'"),
    "metadata a list": lambda f: sql(f, "UPDATE documents SET metadata = '[]'"),
    "sentences not JSON": lambda f: sql(f, "UPDATE passages SET sentences = 'oops'"),
    "sentence spans malformed": lambda f: sql(f, "UPDATE passages SET sentences = '[[1, 2]]'"),
    "text not text": lambda f: sql(f, "UPDATE documents SET text = 12"),
    "passage of unknown document": lambda f: sql(f, "UPDATE passages SET source = 'gone.txt'"),
}


@pytest.mark.parametrize("damage", TAMPERING)
def test_a_tampered_index_is_reported_as_damaged_never_as_a_traceback(tmp_path, index_dir, embedder, damage):
    folder, _ = damaged_copy(index_dir, tmp_path, "tampered")
    TAMPERING[damage](folder)
    stage = "load"
    try:
        retriever = Retriever.load(folder, embedder=embedder)
        stage = "ask"
        for question in ("What causes tides?", "When was the Kestrel Lighthouse built?", "waggle dance"):
            retriever.ask(question)
        stage = "documents"
        for document in retriever.documents():
            retriever.document_text(document.source)
    except IndexCorrupt as err:
        assert str(err).startswith(f"Damaged index at {folder}/: ")
        assert str(err).endswith(f"Rebuild it with `qa index --rebuild --index-dir {folder}/`.")
        if stage != "documents":
            result = CliRunner().invoke(cli, ["ask", "What causes tides?", "--index-dir", str(folder)])
            assert result.exit_code == 1 and result.output.startswith("Error: Damaged index at ")


STRESS = r"""
import sys, threading, time
from pathlib import Path
from qa import Embedder, Retriever

index = Path(sys.argv[1])
retriever = Retriever.load(index, embedder=Embedder())
stop, errors = threading.Event(), []

def read():
    while not stop.is_set():
        try:
            for document in retriever.documents():
                retriever.document_text(document.source)
        except Exception as err:
            errors.append(repr(err))
            stop.set()

readers = [threading.Thread(target=read) for _ in range(3)]
for thread in readers:
    thread.start()
deadline = time.monotonic() + 4
while time.monotonic() < deadline and not stop.is_set():
    (index / "manifest.json").touch()  # a new build, as far as the retriever can tell
    retriever.reload()
stop.set()
for thread in readers:
    thread.join()
print("\n".join(errors))
sys.exit(1 if errors else 0)
"""


@pytest.mark.slow
def test_readers_never_find_the_store_closed_under_them_while_the_index_is_reloaded(tmp_path, index_dir):
    folder = tmp_path / "idx"
    shutil.copytree(index_dir, folder)
    done = subprocess.run([sys.executable, "-c", STRESS, str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])


PICKLE_PROTOCOL_2_TO_5 = [bytes([0x80, n]) for n in range(2, 6)]


UNSAFE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def unsafe_loads(tree: ast.AST) -> list[str]:
    """What in a module's syntax tree imports a pickle-like module or asks a loader to unpickle."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name.endswith(("torch.load", "pd.read_pickle", "read_pickle")):
                found.append(name)
            found += [f"{name}(allow_pickle=True)" for kw in node.keywords
                      if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)]
    return found


def test_the_unpickling_check_finds_every_way_in():
    for code in ("import pickle", "from pickle import loads", "import joblib as j", "from _pickle import load",
                 "np.load(path, allow_pickle=True)", "torch.load(path)", "np.load(p, allow_pickle=flag)"):
        assert unsafe_loads(ast.parse(code)), code
    assert not unsafe_loads(ast.parse("np.load(path, allow_pickle=False)\nimport json"))


def test_nothing_is_pickled_or_unpickled(index_dir):
    root = Path(__file__).parent.parent
    for source in [*root.joinpath("qa").rglob("*.py"), *root.joinpath("ui").rglob("*.py")]:
        assert not unsafe_loads(ast.parse(source.read_text())), source.name
    for path in index_dir.iterdir():
        assert path.read_bytes()[:2] not in PICKLE_PROTOCOL_2_TO_5, f"{path.name} looks like a pickle"
