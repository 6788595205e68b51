import json
import re
import shutil

import pytest

from qa import Embedder, EmptyCorpus, IndexCorrupt, IndexMismatch, IndexNotFound, Retriever, build_index
from qa.format_history import CHANGES, REREAD, RESPLIT, version
from qa.index.manifest import MANIFEST, Manifest


class CountingEmbedder(Embedder):
    """The real model, counting the texts it embeds (to prove unchanged files are not re-embedded)."""

    def __init__(self, real: Embedder, fail_after: int | None = None) -> None:
        super().__init__(real.name, runtime=real.runtime)
        self._model = real._model  # torch's model, if loaded (ONNX Runtime's are shared anyway)
        self.texts = 0
        self.fail_after = fail_after

    def encode(self, texts, **kwargs):
        if self.fail_after is not None and self.texts >= self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.texts += len(texts)
        return super().encode(texts, **kwargs)


def test_report_counts_documents_passages_and_skipped(tmp_path, corpus_dir, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    (docs / "empty.txt").write_text("")
    report = build_index([docs], tmp_path / "idx", embedder=embedder, progress=False)
    assert report.documents == 5
    assert report.passages >= 5
    assert [(s.path.endswith("empty.txt"), s.reason) for s in report.skipped] == [(True, "empty file")]
    manifest = json.loads((tmp_path / "idx" / MANIFEST).read_text())
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert set(manifest["documents"]) == {"honeybees.md", "lighthouse.pdf", "nato-cluster-munitions.txt",
                                          "tides.txt", "volcano.html"}
    assert all(len(d["hash"]) == 64 for d in manifest["documents"].values())


def test_update_embeds_only_changed_files_and_forgets_removed_ones(tmp_path, corpus_dir, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    index = tmp_path / "idx"
    build_index([docs], index, embedder=embedder, progress=False)

    counting = CountingEmbedder(embedder)
    report = build_index([docs], index, embedder=counting, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert counting.texts == 0

    (docs / "tides.txt").write_text("Tides are caused by the wind, according to this changed file.")
    (docs / "honeybees.md").unlink()
    report = build_index([docs], index, embedder=counting, progress=False)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 3)
    assert counting.texts == 1

    retriever = Retriever.load(index, embedder=embedder)
    sources = {d.source for d in retriever.documents()}
    assert "honeybees.md" not in sources
    for hit in retriever.search("What causes tides? The Moon's gravity", k=10):
        assert "Moon's gravity" not in hit.text
    assert "waggle" not in " ".join(h.text for h in retriever.search("waggle dance of bees", k=10))


def test_failed_build_leaves_the_previous_index_answering(tmp_path, corpus_dir, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    index = tmp_path / "idx"
    build_index([docs], index, embedder=embedder, progress=False)
    before = Retriever.load(index, embedder=embedder).ask("When was the Kestrel Lighthouse built?")
    files_before = sorted(p.name for p in index.iterdir())

    (docs / "tides.txt").write_text("A completely different text about tides and wind.")
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index([docs], index, embedder=CountingEmbedder(embedder, fail_after=0), progress=False)

    assert sorted(p.name for p in index.iterdir()) == files_before
    after = Retriever.load(index, embedder=embedder).ask("When was the Kestrel Lighthouse built?")
    assert after.quotes == before.quotes and after.answered
    assert "Moon" in Retriever.load(index, embedder=embedder).document_text("tides.txt")


def test_indexing_with_another_model_is_refused(index_dir, corpus_dir):
    with pytest.raises(IndexMismatch, match="built with model 'sentence-transformers/all-MiniLM-L6-v2'.*--rebuild"):
        build_index([corpus_dir], index_dir, model="some/other-model", progress=False)


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyCorpus, match="No documents"):
        build_index([tmp_path / "empty"], tmp_path / "idx", progress=False)


def test_when_no_file_can_be_indexed_the_error_says_why_for_each(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(EmptyCorpus) as info:
        build_index([folder], tmp_path / "idx", progress=False)
    assert str(info.value).splitlines()[1:] == [f"  {folder}/empty.txt: empty file",
                                               f"  {folder}/scan.pdf: not a readable PDF (PdfStreamError)"]
    assert [s.reason for s in info.value.skipped] == ["empty file", "not a readable PDF (PdfStreamError)"]


def test_loading_a_missing_or_damaged_index_says_what_to_do(tmp_path, index_dir):
    with pytest.raises(IndexNotFound, match=r"No index at .*nothing/\. Run `qa index` first\."):
        Retriever.load(tmp_path / "nothing")
    damaged = tmp_path / "damaged"
    shutil.copytree(index_dir, damaged)
    manifest = json.loads((damaged / MANIFEST).read_text())
    (damaged / manifest["files"]["passages"]).write_bytes(b"not faiss")
    with pytest.raises(IndexCorrupt, match="Damaged index .*--rebuild"):
        Retriever.load(damaged)
    (damaged / MANIFEST).write_text("{ truncated")
    with pytest.raises(IndexCorrupt, match="manifest.json can't be read"):
        Retriever.load(damaged)


def test_index_from_another_format_version_is_refused(tmp_path, index_dir):
    old = tmp_path / "old"
    shutil.copytree(index_dir, old)
    manifest = json.loads((old / MANIFEST).read_text())
    manifest["format"] = 0
    (old / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format 0"):
        Retriever.load(old)


@pytest.mark.parametrize(("rules", "kind"), [("passage_rules", RESPLIT), ("reading_rules", REREAD)])
def test_documents_read_or_split_under_older_rules_are_read_again(tmp_path, corpus_dir, embedder, rules, kind):
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    index = tmp_path / "idx"
    build_index([docs], index, embedder=embedder, progress=False)
    manifest = json.loads((index / MANIFEST).read_text())
    del manifest["documents"]["tides.txt"][rules]  # as written before the rules had a version
    manifest["documents"]["honeybees.md"][rules] = version(kind) - 1
    (index / MANIFEST).write_text(json.dumps(manifest))
    missed = Manifest.load(index).missed_changes()
    assert {change.needs for change in missed} == {kind} and missed[-1] == [c for c in CHANGES if c.needs == kind][-1]

    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.updated, report.unchanged) == (2, 3)
    records = json.loads((index / MANIFEST).read_text())["documents"]
    assert {r[rules] for r in records.values()} == {version(kind)}
    assert Manifest.load(index).missed_changes() == []
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.updated, report.unchanged) == (0, 5)



def test_one_long_file_moves_the_progress_bar_as_its_sentences_are_embedded(tmp_path, embedder, capfd, monkeypatch):
    import tqdm.auto

    from qa.embed.model import CPU_BATCH_SIZE

    class EveryUpdate(tqdm.auto.tqdm):
        """A bar that draws every update, however fast the batches go (tqdm skips those within 0.1 s)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{"mininterval": 0, "miniters": 1, **kwargs})

    monkeypatch.setattr(tqdm.auto, "tqdm", EveryUpdate)

    docs = tmp_path / "docs"
    docs.mkdir()
    # A long report in one file: the file bar alone would sit at 0/1 until all of it is embedded.
    sentences = [f"Ward {n} of the harbour district reported {n * 7} new tenancies in year {1900 + n}."
                 for n in range(3 * CPU_BATCH_SIZE)]
    (docs / "report.txt").write_text(" ".join(sentences), encoding="utf-8")
    build_index([docs], tmp_path / "index", embedder=embedder, progress=True)
    err = capfd.readouterr().err
    batches = {int(done) for done in re.findall(r"Embedding:.*?(\d+)/\d+ \[", err)}
    assert len(batches) >= 3  # it moved batch by batch, not only at the end
