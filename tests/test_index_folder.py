"""The index folder: qa deletes only files it wrote, refuses a folder it would share with other
files, cleans up after a killed build even when nothing changed, and keeps the folder private."""

import os
import shutil
import stat

import pytest
from click.testing import CliRunner
from test_crash import OWLS, WIND_TIDES, PausedIndex

from qa import InvalidInput, build_index
from qa.cli import cli
from qa.index.folder import JOURNAL, LOCK
from qa.index.manifest import MANIFEST, Manifest


def index_files(index) -> set[str]:
    return {p.name for p in index.iterdir()}


def test_an_index_folder_holding_other_files_is_refused_and_nothing_is_deleted(tmp_path, corpus_dir):
    folder = tmp_path / "mine"
    shutil.copytree(corpus_dir, folder)
    (folder / "passages-from-moby-dick.txt").write_text("Call me Ishmael. Some years ago I went to sea.")
    (folder / "store-list.md").write_text("# Shopping\n\nMilk and bread.")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    result = CliRunner().invoke(cli, ["index", str(folder), "--index-dir", str(folder), "--no-progress"])
    assert result.exit_code == 1
    assert "inside the index folder" in result.output
    with pytest.raises(InvalidInput, match=r"holds files that are not part of a qa index \(honeybees.md and"):
        build_index([corpus_dir], folder, progress=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_only_files_the_index_wrote_are_ever_deleted(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    # Named like qa's data files, but not written by qa: a user's file may look like anything.
    lookalike = index / "store-20200101T000000-abcdef.sqlite"
    lookalike.write_text("not qa's")
    (docs / "owls.txt").write_text(OWLS)
    build_index([docs], index, embedder=embedder, progress=False)
    assert lookalike.read_text() == "not qa's"
    manifest = Manifest.load(index)
    assert index_files(index) == {MANIFEST, LOCK, lookalike.name, *manifest.files.values()}


@pytest.mark.slow
def test_a_killed_build_is_cleaned_up_by_a_later_run_that_changes_nothing(tmp_path, corpus_dir, embedder):
    docs, index = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], index, embedder=embedder, progress=False)
    current = index_files(index)
    original = (docs / "tides.txt").read_text()
    (docs / "tides.txt").write_text(WIND_TIDES)
    PausedIndex(docs, index, "embedding").kill()  # after the store was copied for the new build
    leftovers = index_files(index) - current
    assert any(name.startswith("store-") for name in leftovers)

    (docs / "tides.txt").write_text(original)  # so the next run has nothing to change
    report = build_index([docs], index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert index_files(index) == current
    assert JOURNAL not in index_files(index)


def test_the_index_is_private_to_its_owner(tmp_path, corpus_dir, embedder):
    index = tmp_path / "idx"
    build_index([corpus_dir], index, embedder=embedder, progress=False)
    assert stat.S_IMODE(index.stat().st_mode) == 0o700
    for path in index.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_a_failed_first_run_leaves_no_folder_behind(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "idx")])
    assert result.exit_code == 1 and not (tmp_path / "idx").exists()
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "empty"), "--index-dir", str(tmp_path / "a" / "idx")])
    assert result.exit_code == 1 and not (tmp_path / "a").exists()
    assert os.listdir(tmp_path) == ["empty"]
