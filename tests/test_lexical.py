import numpy as np
import pytest

from qa.lexical import LexicalIndex, stem, terms

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
