"""remove_documents: documents leave the index, their files stay."""

from __future__ import annotations

import shutil

import pytest

from qa import IndexLocked, InvalidInput, Retriever, remove_documents
from qa.index.folder import write_lock


@pytest.fixture
def index_copy(tmp_path, index_dir):
    shutil.copytree(index_dir, tmp_path / "index")
    return tmp_path / "index"


def test_a_removed_document_is_no_longer_searched_and_its_file_stays(index_copy, corpus_dir, embedder):
    retriever = Retriever.load(index_copy, embedder=embedder)
    before = {d.source: d for d in retriever.documents()}
    question = "When was the Kestrel Lighthouse built?"
    assert retriever.ask(question).quotes[0].source == "lighthouse.pdf"
    report = remove_documents(["lighthouse.pdf"], index_copy)
    assert (report.removed, report.documents) == (1, len(before) - 1)
    assert report.passages == sum(d.passages for d in before.values()) - before["lighthouse.pdf"].passages
    searched = {h.source for h in retriever.search(question, k=20)}  # the retriever moves to the new build
    assert "lighthouse.pdf" not in searched | {d.source for d in retriever.documents()}
    assert (corpus_dir / "lighthouse.pdf").exists()


def test_unknown_ids_and_emptying_the_index_are_refused(index_copy, embedder):
    sources = [d.source for d in Retriever.load(index_copy, embedder=embedder).documents()]
    with pytest.raises(InvalidInput, match="No document 'nope.txt'"):
        remove_documents(["nope.txt"], index_copy)
    with pytest.raises(InvalidInput, match="empty"):
        remove_documents(sources, index_copy)
    assert [d.source for d in Retriever.load(index_copy, embedder=embedder).documents()] == sources


def test_removal_waits_for_no_one_while_another_build_writes(index_copy):
    with write_lock(index_copy), pytest.raises(IndexLocked):
        remove_documents(["tides.txt"], index_copy)
