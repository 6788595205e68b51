import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import build_index
from qa.cli import cli
from qa.terminal import PIPE_WIDTH, Terminal, format_answer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all control characters but \t and \n
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SOURDOUGH = "How do I bake sourdough bread?"


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
    assert list(answer) == ["question", "answered", "quotes", "passages", "as_of", "date_order"]
    assert answer["answered"] is True
    keys = ["text", "source", "title", "page", "start", "end", "score"]  # the contract: extended, never changed
    assert all(list(q)[: len(keys)] == keys for q in answer["quotes"] + answer["passages"])
    assert all("context" in q for q in answer["quotes"])
    assert all({"date", "author", "url", "page_label"} <= set(q) for q in answer["quotes"] + answer["passages"])
    assert all(list(q)[-1] == "also_in" for q in answer["quotes"] + answer["passages"])
    assert "Biden administration" in answer["quotes"][0]["text"]
    assert answer["quotes"][0]["source"] == "nato-cluster-munitions.txt"


def test_ask_on_an_older_index_says_what_it_needs(run, index_dir, tmp_path):
    question = "Which administration is sending cluster munitions to Ukraine?"
    assert "predates" not in run("ask", "--index-dir", str(index_dir), question).stderr
    old = tmp_path / "index"
    shutil.copytree(index_dir, old)
    manifest = json.loads((old / "manifest.json").read_text())
    next(iter(manifest["documents"].values()))["passage_rules"] = 1
    (old / "manifest.json").write_text(json.dumps(manifest))
    result = run("ask", "--index-dir", str(old), question)
    assert result.exit_code == 0 and "Biden administration" in result.stdout
    assert result.stderr == ("qa: the index predates a change, passages follow paragraphs (2026-11-27): "
                             "re-split by the next `qa index`\n")


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


def test_ask_not_found_says_so_and_lists_weak_matches_one_line_each(run, index_dir):
    result = run("ask", "--index-dir", str(index_dir), SOURDOUGH)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Not found in the documents.", "Closest passages (weak matches, not answers):"]
    assert [line[:6] for line in lines[2:]] == ["  (1) ", "  (2) ", "  (3) ", "  (4) ", "  (5) "]
    assert all(len(line) <= PIPE_WIDTH for line in lines)
    assert "--full" in result.stderr


def test_a_long_file_name_leaves_the_weak_matches_their_preview_at_80_columns(run, tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    long_name = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.html.txt"  # a saved web page
    (docs / long_name).write_text((DATA / "tides.txt").read_text(encoding="utf-8"), encoding="utf-8")
    build_index([docs], tmp_path / "index", embedder=embedder, progress=False)
    result = CliRunner().invoke(cli, ["ask", "--index-dir", str(tmp_path / "index"), SOURDOUGH], env={"COLUMNS": "80"})
    matches = [line for line in result.stdout.splitlines() if line.startswith("  (")]
    assert matches and all(len(line) <= 80 for line in matches)
    for line in matches:
        label, preview = line.split("): ", 1)
        assert label.split(") ", 1)[1].startswith("9f86d081884c7d") and "\u2026" in label and len(preview) >= 35


@pytest.mark.slow
def test_the_first_run_says_it_prepares_the_model_once_and_how_long_that_took(tmp_path):
    from qa.embed.onnx_export import EXPORT_SIZE, EXPORT_TIME

    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-m", "qa", "index", str(ROOT / "docs"), "--index-dir",
                            str(tmp_path / f"index-{n}"), "--no-progress"], capture_output=True, text=True, env=env,
                           timeout=600) for n in (1, 2)]
    assert [run.returncode for run in runs] == [0, 0]
    first = runs[0].stderr.splitlines()
    export = next((tmp_path / "cache" / "onnx").iterdir())
    assert first[0] == (f"Preparing the model for ONNX Runtime, once: {EXPORT_TIME}, {EXPORT_SIZE} written to "
                        f"{export}. Later runs skip this.")
    assert re.fullmatch(r"The model is prepared \(\d+ s\)\.", first[1]) and len(first) == 2
    assert runs[1].stderr == ""


def test_ask_full_prints_the_closest_passages_whole(run, index_dir):
    passages = json.loads(run("ask", "--index-dir", str(index_dir), "--json", SOURDOUGH).stdout)["passages"]
    result = run("ask", "--index-dir", str(index_dir), "--full", SOURDOUGH)
    printed = " ".join(result.stdout.split())
    assert all(" ".join(p["text"].split()) in printed for p in passages)


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
    assert result.output.startswith("Error: No documents (.txt, .md, .html, .pdf, .docx, .epub, .odt) found in")
    assert not (tmp_path / "idx" / "manifest.json").exists()


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_when_no_file_can_be_indexed_each_reason_is_printed(run, tmp_path, json_flag):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    result = run("index", str(folder), "--index-dir", str(tmp_path / "idx"), "--no-progress", *json_flag)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [f"  {folder}/empty.txt: empty file",
                                              f"  {folder}/scan.pdf: not a readable PDF (PdfStreamError)"]


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


@pytest.mark.slow
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


def test_a_failed_index_leaves_no_folder_behind(run, tmp_path):
    (tmp_path / "empty").mkdir()
    for paths in ([str(tmp_path / "nope")], [str(tmp_path / "empty")]):
        result = run("index", *paths, "--index-dir", str(tmp_path / "index"))
        assert result.exit_code == 1
        assert not (tmp_path / "index").exists()


def test_option_defaults_come_from_the_library(run):
    from qa import DEFAULT_K
    from qa.index.vectors import EXACT_MAX_VECTORS

    assert f"[default: {DEFAULT_K};" in run("ask", "--help").output
    assert f"exact below {EXACT_MAX_VECTORS:,} vectors" in " ".join(run("index", "--help").output.split())


OWL = ("Owl notes \x1b]0;pwned\x07 title\n\n"
       "The barn owl \x1b[2J hunts at night and swallows mice whole \x1b]52;c;ZWNobyBoaQ==\x07 every evening. "
       "\u009b31m Its call is a long shriek.\n")


def test_control_characters_never_reach_the_terminal(run, tmp_path, embedder):
    docs, index = tmp_path / "docs", str(tmp_path / "index")
    docs.mkdir()
    (docs / "owl\x1b[31m.txt").write_text(OWL, encoding="utf-8")
    (docs / "bad\x1b]0;x\x07.pdf").write_bytes(b"%PDF-1.4 junk")
    build_index([docs], index, embedder=embedder, progress=False)
    printed = {
        "index": run("index", str(docs), "--index-dir", index, "--no-progress").stdout,  # stderr: bars
        "answer": run("ask", "--index-dir", index, "What does the barn owl swallow?").output,
        "not found": run("ask", "--index-dir", index, SOURDOUGH).output,
        "full": run("ask", "--index-dir", index, "--full", SOURDOUGH).output,
        "error": run("index", str(docs / "gone\x1b[2J.txt"), "--index-dir", index).output,
        "json": run("ask", "--index-dir", index, "--json", "What does the barn owl swallow?").output,
    }
    assert {name: CONTROL.findall(text) for name, text in printed.items()} == {name: [] for name in printed}
    assert "Skipped " in printed["index"] and "bad]0;x.pdf: not a readable PDF" in printed["index"]
    assert "swallows mice whole ]52;c;ZWNobyBoaQ== every evening." in printed["answer"]
    assert "(owl[31m.txt, chars" in printed["answer"] and printed["error"].startswith("Error: No such file")
    quote = json.loads(printed["json"])["quotes"][0]["text"]
    assert "\x1b]52;c;" in quote and "\u009b" in quote  # --json keeps the data, only spelled as escapes


def test_lines_fit_the_width_given(retriever):
    for question in ("When was the Kestrel Lighthouse built?", SOURDOUGH):
        text = format_answer(retriever.ask(question), Terminal(color=False, width=60))
        quote_lines = {line for line in text.splitlines() if line.startswith(("[", "\u201c"))}
        assert all(len(line) <= 60 for line in text.splitlines() if line not in quote_lines and "\u2014" not in line)


def on_terminal(args: list[str], env: dict[str, str], columns: int) -> str:
    """What `qa` prints to a terminal of ``columns`` columns (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "qa", *args], stdin=follower, stdout=follower,
                               stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the program is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.slow
def test_colour_and_width_follow_the_terminal_and_no_color(index_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
    args = ["ask", "--index-dir", str(index_dir), "When was the Kestrel Lighthouse built?"]
    coloured = on_terminal(args, env, columns=64)
    assert ANSI.search(coloured)
    context = [line for line in ANSI.sub("", coloured).splitlines() if line.startswith("    | ")]
    assert context and all(len(line) <= 64 for line in context)
    plain = on_terminal(args, {**env, "NO_COLOR": "1"}, columns=64)
    assert "\x1b" not in plain and ANSI.sub("", coloured) == plain
