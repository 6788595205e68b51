"""Incremental `qa index`: only what changed is embedded, and what changed or vanished is never cited."""

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner
from test_indexer import CountingEmbedder

from qa import Retriever, build_index
from qa.cli import cli
from qa.index.manifest import MANIFEST

OWLS = "Barn owls swallow their prey whole and later cough up pellets of fur and bone."
WIND_TIDES = "Tides are caused by the wind pushing the water, according to this changed file."


def passage_rows(index) -> list[tuple]:
    """Every stored passage as (source, start, end), read straight from the index's SQLite file."""
    manifest = json.loads((index / MANIFEST).read_text())
    db = sqlite3.connect(index / manifest["files"]["store"])
    try:
        return db.execute("SELECT source, start, end FROM passages ORDER BY source, start").fetchall()
    finally:
        db.close()


def all_hit_text(retriever, question: str) -> str:
    return " ".join(hit.text for hit in retriever.search(question, k=100))


def test_add_change_delete_and_rename_keep_the_index_exact(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    first = build_index([docs], index, embedder=embedder, progress=False)
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)

    counting = CountingEmbedder(embedder)
    (docs / "owls.txt").write_text(OWLS)
    report = build_index([docs], index, embedder=counting, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 5)
    assert counting.texts == 1  # the one sentence of the new file, nothing of the five unchanged ones
    answer = Retriever.load(index, embedder=embedder).ask("What do barn owls cough up?")
    assert answer.answered and answer.quotes[0].source == "owls.txt"

    counting = CountingEmbedder(embedder)
    (docs / "tides.txt").write_text(WIND_TIDES)
    report = build_index([docs], index, embedder=counting, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 5)
    assert counting.texts == 1
    retriever = Retriever.load(index, embedder=embedder)
    assert retriever.document_text("tides.txt") == WIND_TIDES
    assert "Moon" not in all_hit_text(retriever, "What causes tides? The Moon's gravity pulls the ocean.")
    assert all("Moon" not in q.text for q in retriever.ask("What causes the tides?").quotes)

    counting = CountingEmbedder(embedder)
    (docs / "honeybees.md").unlink()
    report = build_index([docs], index, embedder=counting, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 5)
    assert counting.texts == 0
    retriever = Retriever.load(index, embedder=embedder)
    assert "honeybees.md" not in {d.source for d in retriever.documents()}
    hits = retriever.search("How do honeybees tell each other where flowers are? The waggle dance.", k=100)
    assert all(hit.source != "honeybees.md" for hit in hits)
    assert all(q.source != "honeybees.md" for q in retriever.ask("What is the waggle dance?").quotes)

    rows_before_rename = len(passage_rows(index))
    (docs / "volcano.html").rename(docs / "eruption.html")
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 1, 4)
    retriever = Retriever.load(index, embedder=embedder)
    assert {d.source for d in retriever.documents()} == {
        "eruption.html", "lighthouse.pdf", "nato-cluster-munitions.txt", "owls.txt", "tides.txt"}
    assert all(hit.source != "volcano.html" for hit in retriever.search("Mount Ardent eruption ash", k=100))
    rows = passage_rows(index)
    assert len(rows) == rows_before_rename == report.passages
    assert len(set(rows)) == len(rows)


@pytest.mark.slow
def test_a_run_with_no_change_embeds_nothing_and_loads_no_model(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    manifest_before = (index / MANIFEST).read_bytes()
    script = (
        "import json, sys\n"
        "from qa import build_index\n"
        "report = build_index([sys.argv[1]], sys.argv[2], progress=False)\n"
        "print(json.dumps([report.added, report.updated, report.removed, report.unchanged,\n"
        "                  'torch' in sys.modules, 'sentence_transformers' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(docs), str(index)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [0, 0, 0, 5, False, False]
    assert (index / MANIFEST).read_bytes() == manifest_before


def test_rebuild_starts_from_scratch(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    build = json.loads((index / MANIFEST).read_text())["build"]
    counting = CountingEmbedder(embedder)
    report = build_index([docs], index, embedder=counting, rebuild=True, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)
    assert counting.texts > 5
    assert json.loads((index / MANIFEST).read_text())["build"] != build
    assert len(passage_rows(index)) == report.passages


def test_cli_rebuild_reports_json_and_another_model_is_refused_naming_both(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    manifest_before = (index / MANIFEST).read_bytes()

    result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(index), "--model", "other/model"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The index at {index}/ was built with model 'sentence-transformers/all-MiniLM-L6-v2', "
        "not 'other/model': one index holds one model's vectors. Leave the model out to use "
        "'sentence-transformers/all-MiniLM-L6-v2', or rebuild the index with "
        "`qa index --rebuild --model other/model`.\n"
    )
    assert (index / MANIFEST).read_bytes() == manifest_before

    result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(index), "--rebuild", "--json",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (5, 0, 0, 0)
    assert report["documents"] == 5


def test_several_folders_and_single_files_share_one_index_with_stable_ids(tmp_path, embedder):
    a, b, elsewhere, index = tmp_path / "a", tmp_path / "b", tmp_path / "elsewhere", tmp_path / "idx"
    (a / "sub").mkdir(parents=True)
    b.mkdir()
    elsewhere.mkdir()
    (a / "tides.txt").write_text("The Moon's gravity raises two tides a day.")
    (a / "sub" / "owls.md").write_text("# Owls\n\n" + OWLS)
    (b / "bees.txt").write_text("Honeybees tell each other where flowers are with a waggle dance.")
    (elsewhere / "mercury.txt").write_text("Mercury boils at 356.7 degrees Celsius.")

    report = build_index([a, b, elsewhere / "mercury.txt"], index, embedder=embedder, progress=False)
    assert report.added == 4 and report.skipped == []
    ids = {"tides.txt", "sub/owls.md", "bees.txt", "mercury.txt"}
    assert {d.source for d in Retriever.load(index, embedder=embedder).documents()} == ids

    # Indexing one folder again leaves the documents of the others alone.
    report = build_index([a], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged, report.documents) == (0, 0, 0, 2, 4)

    # A single file updates in place under its id, however it is given.
    (a / "tides.txt").write_text("The Moon and the Sun together raise two tides a day.")
    report = build_index([a / "tides.txt"], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed, report.skipped) == (0, 1, 0, [])
    (elsewhere / "mercury.txt").write_text("Mercury boils at 356.7 degrees Celsius and freezes at -38.8.")
    report = build_index([elsewhere / "mercury.txt"], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)

    # A file removed from one folder goes; the others stay.
    (b / "bees.txt").unlink()
    report = build_index([b], index, embedder=embedder, progress=False)
    assert (report.removed, report.documents) == (1, 3)
    retriever = Retriever.load(index, embedder=embedder)
    assert {d.source for d in retriever.documents()} == ids - {"bees.txt"}
    assert retriever.document_text("sub/owls.md").endswith(OWLS)
    assert "Sun" in retriever.document_text("tides.txt")


def test_re_adding_the_same_file_never_duplicates_passages(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    original = passage_rows(index)
    assert len(set(original)) == len(original)

    report = build_index([docs, docs, docs / "tides.txt"], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert passage_rows(index) == original

    saved = (docs / "tides.txt").read_bytes()
    (docs / "tides.txt").unlink()
    assert build_index([docs], index, embedder=embedder, progress=False).removed == 1
    (docs / "tides.txt").write_bytes(saved)
    assert build_index([docs], index, embedder=embedder, progress=False).added == 1
    assert passage_rows(index) == original

    (docs / "copy of tides.txt").write_bytes(saved)  # the same text under a new name is a new document
    build_index([docs], index, embedder=embedder, progress=False)
    rows = passage_rows(index)
    assert len(rows) == len(set(rows)) == len(original) + sum(1 for r in original if r[0] == "tides.txt")


def test_an_unchanged_broken_file_is_not_read_again_and_nothing_is_rebuilt(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    first = build_index([docs], index, embedder=embedder, progress=False)
    assert [(s.path.endswith("broken.pdf"), s.reason) for s in first.skipped] == [
        (True, "not a readable PDF (PdfStreamError)")]
    build = json.loads((index / MANIFEST).read_text())["build"]

    counting = CountingEmbedder(embedder)
    again = build_index([docs], index, embedder=counting, progress=False)
    assert [s.reason for s in again.skipped] == ["not a readable PDF (PdfStreamError)"], "still reported"
    assert (again.added, again.updated, again.unchanged, counting.texts) == (0, 0, 5, 0)
    assert json.loads((index / MANIFEST).read_text())["build"] == build, "no new build"

    (docs / "broken.pdf").write_text("Now it is a text file saved with the wrong name.")
    with_change = build_index([docs], index, embedder=embedder, progress=False)
    assert [s.reason for s in with_change.skipped] == ["not a readable PDF (PdfStreamError)"]
    (docs / "broken.pdf").unlink()
    gone = build_index([docs], index, embedder=embedder, progress=False)
    assert gone.skipped == [] and json.loads((index / MANIFEST).read_text())["skipped"] == {}


@pytest.mark.slow
def test_documents_and_texts_follow_a_build_made_by_another_process(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    retriever = Retriever.load(index, embedder=embedder)
    assert "owls.txt" not in {d.source for d in retriever.documents()}
    (docs / "owls.txt").write_text(OWLS)
    subprocess.run([sys.executable, "-m", "qa", "index", str(docs), "--index-dir", str(index), "--no-progress"],
                   check=True, capture_output=True)
    assert "owls.txt" in {d.source for d in retriever.documents()}, "without a question asked first"
    assert retriever.document_text("owls.txt") == OWLS
