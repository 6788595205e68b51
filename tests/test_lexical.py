import numpy as np
import pytest

from qa.index.bm25 import LexicalIndex
from qa.text.words import stem, terms

PASSAGES = {
    10: "The Kestrel Lighthouse was built in 1871 by the engineer Margit Olsen.",
    11: "Honeybees tell each other where flowers are with the waggle dance.",
    12: "Spring tides happen at new and full moon, when the sun and moon pull together.",
}


@pytest.fixture
def lexical():
    return LexicalIndex.build(list(PASSAGES.values()), list(PASSAGES))


def test_terms_drop_stop_words_and_plurals():
    assert terms("Who built the lighthouses?") == ["built", "lighthouse"]
    assert [stem(w) for w in ["bodies", "glasses", "boxes", "virus", "analysis", "tides"]] == [
        "body", "glass", "box", "virus", "analysis", "tide"]


def test_search_finds_the_passage_with_the_question_words(lexical):
    hits = lexical.search("Who built the Kestrel lighthouse?", k=3)
    assert [pid for pid, _ in hits] == [10]
    assert hits[0][1] == pytest.approx(1.0), "it holds every question word as strongly as any passage"
    assert lexical.search("boiling point of mercury", k=3) == []


def test_scores_are_normalised_by_the_question_words_best_scores(lexical):
    scores = lexical.scores_of(lexical.scores("tides of the moon and honeybees"), [10, 11, 12])
    assert scores[10] == 0.0
    assert 0 < scores[11] < 1 and 0 < scores[12] < 1
    assert scores[11] + scores[12] == pytest.approx(1.0, abs=1e-5), "each word scores in one passage only"


def test_save_and_load_round_trip_without_pickle(lexical, tmp_path):
    path = tmp_path / "lexical.npz"
    lexical.save(path)
    with np.load(path, allow_pickle=False) as arrays:
        assert arrays["vocabulary"].dtype.kind == "U"
    loaded = LexicalIndex.load(path)
    assert len(loaded) == 3
    assert loaded.search("waggle dance", k=2) == lexical.search("waggle dance", k=2)


def test_index_folder_keeps_its_bm25_file(index_dir):
    import json

    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert (index_dir / manifest["files"]["lexical"]).is_file()


def test_the_bm25s_matrix_scores_as_bm25s_itself_does():
    """qa reads bm25s's score matrix and sums its rows itself: if bm25s changes how it stores the
    matrix or scores, this fails."""
    import bm25s

    corpus = [terms(text) for text in PASSAGES.values()]
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(corpus, show_progress=False)
    ours = LexicalIndex.build(list(PASSAGES.values()), list(PASSAGES))
    for question in ("moon tides", "engineer built lighthouse", "waggle dance flowers moon"):
        query = [t for t in terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(query)
        raw = ours.scores(question) * float(ours._term_max[[ours._vocabulary[t] for t in query]].sum())
        assert np.allclose(raw, expected, atol=1e-5)


@pytest.mark.parametrize("damage, message", [
    (lambda a: a.update(indices=a["indices"] + 7), "points to passages"),
    (lambda a: a.update(indptr=a["indptr"][::-1].copy()), "row pointers"),
    (lambda a: a.update(ids=a["ids"][:2]), "holds 2 passages"),
    (lambda a: a.update(data=np.full_like(a["data"], np.nan)), "not numbers"),
    (lambda a: a.update(vocabulary=a["vocabulary"][:3]), "row pointers"),
])
def test_load_says_what_is_wrong_with_damaged_arrays(lexical, tmp_path, damage, message):
    path = tmp_path / "lexical.npz"
    lexical.save(path)
    with np.load(path) as stored:
        arrays = dict(stored)
    damage(arrays)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        LexicalIndex.load(path, passages=3)
