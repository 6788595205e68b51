import json

import pytest
from click.testing import CliRunner

from qa.cli import cli


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_ask_json_has_the_documented_shape(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), "--json",
                 "Which administration is sending cluster munitions to Ukraine?")
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert list(answer) == ["question", "answered", "quotes", "passages"]
    assert answer["answered"] is True
    keys = ["text", "source", "title", "page", "start", "end", "score", "date", "author", "url", "page_label"]
    assert all(list(q) == keys for q in answer["quotes"] + answer["passages"])
    assert "Biden administration" in answer["quotes"][0]["text"]
    assert answer["quotes"][0]["source"] == "nato-cluster-munitions.txt"


def test_ask_json_not_answered(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), "--json", "What is the boiling point of mercury?")
    answer = json.loads(result.stdout)
    assert answer["answered"] is False and answer["quotes"] == [] and answer["passages"]


def test_ask_prints_quote_citation_and_context(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), "When was the Kestrel Lighthouse built?")
    assert result.exit_code == 0
    # The answering sentence opens with "It", so the sentence naming the lighthouse is quoted with it.
    assert ("\u201cThe Kestrel Lighthouse stands on the northern cliffs of Varna Island. "
            "It was built in 1871 by the engineer Margit Olsen.\u201d") in result.output
    assert "The Kestrel Lighthouse (lighthouse.pdf, p. 1, chars" in result.output
    assert "\u00bbThe Kestrel Lighthouse stands" in result.output


def test_ask_not_found_says_so_and_marks_weak_matches(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), "How do I bake sourdough bread?")
    assert result.exit_code == 0
    assert result.stdout.startswith("Not found in the documents.\nClosest passages (weak matches, not answers):")


def test_ask_without_an_index_is_one_line_and_exit_1(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QA_INDEX_DIR")
    result = run("ask", "anything")
    assert result.exit_code == 1
    assert result.output == "Error: No index at index/. Run `qa index` first.\n"


def test_index_missing_path_and_empty_folder(run, tmp_path):
    result = run("index", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "idx"))
    assert (result.exit_code, result.output) == (1, f"Error: No such file or folder: {tmp_path / 'nope'}\n")
    (tmp_path / "empty").mkdir()
    result = run("index", str(tmp_path / "empty"), "--index-dir", str(tmp_path / "idx"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: No documents (.txt, .md, .html, .pdf) found in")
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_empty_question_is_a_user_error(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), "  ")
    assert (result.exit_code, result.output) == (1, "Error: The question is empty: ask something about your documents.\n")


def test_index_reports_counts_and_skipped_files(run, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Otters\n\nSea otters hold hands while they sleep so they do not drift apart.")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    result = run("index", str(docs), "--index-dir", str(tmp_path / "idx"), "--no-progress")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Indexed 1 document(s), 1 passage(s) in {tmp_path / 'idx'}/ in ")
    assert lines[0].endswith(": 1 added, 0 updated, 0 removed, 0 unchanged.")
    assert lines[1].startswith(f"Skipped {docs / 'broken.pdf'}: not a readable PDF")
    report = json.loads(run("index", str(docs), "--index-dir", str(tmp_path / "idx"), "--json").stdout)
    assert (report["documents"], report["unchanged"], report["added"]) == (1, 1, 0)


def test_every_command_has_help(run):
    result = run("--help")
    assert result.exit_code == 0
    commands = list(cli.commands)
    assert {"index", "ask"} <= set(commands)
    for name in commands:
        help_text = run(name, "--help")
        assert help_text.exit_code == 0
        assert "Example:" in help_text.output and len(help_text.output.splitlines()) > 5


def test_ask_with_undecodable_bytes_in_the_question_answers(index_dir):
    import os
    import subprocess
    import sys

    question = b"\xff\xfe When was the Kestrel Lighthouse built?"
    result = subprocess.run([os.fsencode(sys.executable), b"-m", b"qa", b"ask", b"--index-dir",
                             os.fsencode(index_dir), b"--json", question], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    answer = json.loads(result.stdout)
    assert answer["answered"] and "1871" in answer["quotes"][0]["text"]
