"""Copies of one story: recognised at index time from their sentences, kept right by incremental
runs, and quoted once with the other copies named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import NEWS

from qa import Retriever, build_index
from qa.cli import cli
from qa.index.copies import normalised
from qa.index.manifest import Manifest

WIRE = ("wire/alderbrook-bridge.html", "wire/alderbrook-bridge.md", "wire/alderbrook-bridge.txt")
REPORTS = ("reports/river-times-flood.html", "reports/valley-gazette-flood.html")
BRIDGE_QUESTIONS = (
    "What did the engineers find at the old mill bridge?",
    "When was the bridge built?",
    "Who is the county surveyor?",
    "How much longer is the journey on the ring road?",
    "What will the parish council ask for?",
    "When was the parapet rebuilt?",
)


def groups(index_dir: Path) -> dict[str, str | None]:
    return {source: record.copy_group for source, record in Manifest.load(index_dir).documents.items()}


def test_the_three_copies_of_a_story_form_one_group_and_other_outlets_stay_apart(news_index):
    found = groups(news_index)
    assert {found[s] for s in WIRE} == {WIRE[0]}  # the group is named by its first id
    assert found[REPORTS[0]] is None and found[REPORTS[1]] is None  # one flood, two outlets' own reporting


def test_a_three_copy_story_is_quoted_once_with_the_other_copies_named(news):
    duplicates = 0
    for question in BRIDGE_QUESTIONS:
        answer = news.ask(question)
        assert answer.answered, question
        texts = [normalised(q.text) for q in answer.quotes]
        duplicates += sum(a in b or b in a for i, a in enumerate(texts) for b in texts[i + 1 :])
        first = answer.quotes[0]
        assert first.source in WIRE
        assert sorted((first.source, *first.also_in)) == sorted(WIRE), question
        for hit in answer.hits:  # no passage is listed twice either
            assert not any(normalised(hit.text) == normalised(other.text)
                           for other in answer.hits if other is not hit), question
    assert duplicates == 0


def test_the_cli_says_where_else_the_quote_is(news_index):
    result = CliRunner().invoke(cli, ["ask", "--index-dir", str(news_index), "When was the bridge built?"])
    assert result.exit_code == 0
    quotes = [line for line in result.output.splitlines() if line.startswith("[")]
    assert sum("The bridge was built in 1812" in line for line in quotes) == 1
    assert "(3 documents)" in result.output and "also in: wire/alderbrook-bridge." in result.output
    data = json.loads(CliRunner().invoke(cli, ["ask", "--index-dir", str(news_index), "--json",
                                               "When was the bridge built?"]).stdout)
    assert len(data["quotes"][0]["also_in"]) == 2
    assert all("also_in" in passage for passage in data["passages"])


def test_incremental_runs_keep_copy_groups_right(tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(NEWS, docs)
    (docs / "wire" / "alderbrook-bridge.md").unlink()
    build_index([docs], index, embedder=embedder, progress=False)
    assert {groups(index)[s] for s in (WIRE[0], WIRE[2])} == {WIRE[0]}

    shutil.copy(NEWS / WIRE[1], docs / WIRE[1])  # a third copy is added
    build_index([docs], index, embedder=embedder, progress=False)
    assert {groups(index)[s] for s in WIRE} == {WIRE[0]}

    (docs / WIRE[0]).unlink()  # the copy that named the group goes: the group goes on without it
    build_index([docs], index, embedder=embedder, progress=False)
    assert WIRE[0] not in groups(index) and {groups(index)[s] for s in WIRE[1:]} == {WIRE[1]}

    gazette = Retriever.load(index, embedder=embedder).document_text(REPORTS[1])
    (docs / WIRE[1]).write_text(gazette, encoding="utf-8")  # now another story
    build_index([docs], index, embedder=embedder, progress=False)
    found = groups(index)
    assert found[WIRE[2]] is None  # the last copy of the bridge story stands alone
    assert found[WIRE[1]] == found[REPORTS[1]] == REPORTS[1]  # the changed file is a copy of the gazette's report


def test_an_index_from_before_copy_groups_is_brought_up_to_date_without_reading_files(tmp_path, news_index):
    index = tmp_path / "index"
    shutil.copytree(news_index, index)
    data = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    del data["copy_rules"]
    for record in data["documents"].values():
        del record["date"], record["copy_group"]
    (index / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.load(index).copy_rules == 0 and set(groups(index).values()) == {None}

    report = build_index([NEWS], index, progress=False)  # no embedder: none may be needed
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    manifest = Manifest.load(index)
    assert {groups(index)[s] for s in WIRE} == {WIRE[0]}
    assert manifest.documents[REPORTS[0]].date == "2024-03-06"


def test_hits_name_their_copies_too(news):
    hit = news.search("When was the bridge built?", k=1)[0]
    assert sorted((hit.source, *hit.also_in)) == sorted(WIRE)
    assert all(normalised(hit.text) in normalised(news.document_text(copy)) for copy in hit.also_in)


def test_filtered_answers_name_only_copies_within_the_filter(news):
    answer = news.ask("When was the bridge built?", source="wire/*.[ht][tx]*")
    assert answer.quotes[0].source in {WIRE[0], WIRE[2]}
    assert set(answer.quotes[0].also_in) == {WIRE[0], WIRE[2]} - {answer.quotes[0].source}


def test_retriever_reloads_groups_with_the_index(tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    (docs / "wire").mkdir(parents=True)
    shutil.copy(NEWS / WIRE[2], docs / WIRE[2])
    build_index([docs], index, embedder=embedder, progress=False)
    retriever = Retriever.load(index, embedder=embedder)
    assert retriever.ask("When was the bridge built?").quotes[0].also_in == []
    shutil.copy(NEWS / WIRE[0], docs / WIRE[0])
    build_index([docs], index, embedder=embedder, progress=False)
    quote = retriever.ask("When was the bridge built?").quotes[0]
    assert sorted((quote.source, *quote.also_in)) == [WIRE[0], WIRE[2]]
