"""Filters by date and document act before ranking: the best match within the filter, not the
best match overall with the rest filtered away."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from qa import DEFAULT_SCORING, InvalidInput, Retriever
from qa.cli import cli
from qa.index import vectors

GAZETTE, TIMES = "reports/valley-gazette-flood.html", "reports/river-times-flood.html"
EVACUATED = "How many residents were evacuated?"


def _unit(count: int, dimension: int = 16) -> np.ndarray:
    data = np.random.default_rng(7).standard_normal((count, dimension)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("allowed_count", [3, 40, 1500])
def test_vector_search_within_a_mask_finds_the_nearest_allowed_vectors(kind, allowed_count):
    data, ids = _unit(3000), np.arange(3000, dtype=np.int64) * 2 + 1  # ids with gaps, as after removals
    index = vectors.new_flat(16)
    index.add_with_ids(data, ids)
    if kind == "ivf":
        index = vectors.build_ivf(data, ids)
    allowed = np.zeros(ids.max() + 1, dtype=bool)
    chosen = np.random.default_rng(1).choice(len(ids), allowed_count, replace=False)
    allowed[ids[chosen]] = True
    query = data[:1] + 0.1 * data[1:2]
    scores, found = vectors.search_within(index, query, 10, allowed)
    best = ids[chosen][np.argsort(-(data[chosen] @ query[0]))[: min(10, allowed_count)]]
    assert allowed[found[0]].all()
    assert len(found[0]) == min(10, allowed_count)
    recall = len(set(found[0]) & set(best)) / len(best)
    assert recall >= (1.0 if kind == "flat" or allowed_count <= 40 else 0.5)


def test_the_best_match_within_the_filter_even_when_the_best_overall_is_filtered_out(news_index, embedder):
    # Fetching a single candidate from each search: a filter applied after ranking would be left
    # with nothing once it drops the best match; one applied before finds the best it allows.
    narrow = Retriever.load(news_index, embedder=embedder, scoring=replace(DEFAULT_SCORING, candidates=1))
    best = narrow.search(EVACUATED, k=1)[0]
    other = GAZETTE if best.source == TIMES else TIMES
    within = narrow.search(EVACUATED, k=1, source=other)
    assert [hit.source for hit in within] == [other]
    assert ("1,200" if other == GAZETTE else "3,400") in within[0].text


def test_a_date_range_answers_from_the_reports_of_that_time(news):
    early = news.ask(EVACUATED, until="2024-03-03")
    assert [q.source for q in early.quotes] == [GAZETTE] and "1,200" in early.quotes[0].text
    late = news.ask(EVACUATED, since="2024-03-05", until="2024-03")
    assert {q.source for q in late.quotes} == {TIMES} and "3,400" in late.quotes[0].text
    assert all(hit.source == TIMES for hit in late.hits)


def test_undated_documents_are_outside_any_date_range(news):
    answer = news.ask("When was the bridge built?", since="2024-03-01")
    assert answer.quotes[0].source == "wire/alderbrook-bridge.html"
    assert answer.quotes[0].also_in == []  # its copies in .txt and .md carry no date
    assert {hit.source for hit in answer.hits} <= {"wire/alderbrook-bridge.html", GAZETTE, TIMES}


def test_a_filter_nothing_passes_is_one_clear_error(news):
    with pytest.raises(InvalidInput, match=r"^No indexed document is dated 2025-01-01 to now\.$"):
        news.ask(EVACUATED, since="2025")
    with pytest.raises(InvalidInput, match=r"matching 'blogs/\*'"):
        news.search(EVACUATED, source="blogs/*")
    with pytest.raises(InvalidInput, match="per_source must be a whole number"):
        news.ask(EVACUATED, per_source=0)


def test_the_cli_filters_and_refuses_bad_dates_in_one_line(news_index):
    def run(*args):
        return CliRunner().invoke(cli, ["ask", "--index-dir", str(news_index), *args])

    result = run("--json", "--source", "reports/valley-*", "--source", "wire/*.md", EVACUATED)
    assert result.exit_code == 0
    assert {q["source"] for q in json.loads(result.stdout)["quotes"]} == {GAZETTE}
    bad = run("--since", "last week", EVACUATED)
    assert bad.exit_code == 1
    assert bad.output == ("Error: since must be a date such as 2023-07-01 (or 2023-07, or 2023), "
                          "not 'last week'.\n")
    empty = run("--since", "2024-03-07", "--until", "2024-03-05", EVACUATED)
    assert empty.exit_code == 1 and empty.output.startswith("Error: The date range ends (2024-03-05) before")
