import os
from pathlib import Path

import pytest

from qa.errors import PathNotFound, UnsupportedDocument
from qa.read.files import SourceFile, find_files
from qa.read.formats import decode_text
from qa.read.parse_process import load_document

DATA = Path(__file__).parent / "data"


def load(path: Path):
    return load_document(SourceFile(path, path.name, str(path.parent)))


def test_find_files_gives_ids_relative_to_the_folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("# Deep\n\ntext")
    (tmp_path / "top.txt").write_text("top")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    files, skipped = find_files([tmp_path])
    assert [f.source for f in files] == ["a/b/deep.md", "top.txt"]
    assert [(Path(s.path).name, s.reason.split(",")[0]) for s in skipped] == [
        ("image.png", "unsupported file type .png")]


def test_a_file_of_a_type_not_read_gets_a_skip_line_that_says_so(tmp_path):
    (tmp_path / "report.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "notes").write_text("no suffix")
    (tmp_path / ".hidden.bin").write_bytes(b"x")
    _, skipped = find_files([tmp_path])
    assert [Path(s.path).name for s in skipped] == ["notes", "report.doc"]
    assert skipped[1].reason.startswith("unsupported file type .doc, not read (qa reads .txt ")
    assert ".docx .epub .odt" in skipped[1].reason


def test_find_files_single_file_id_is_its_name():
    files, _ = find_files([DATA / "tides.txt"])
    assert [f.source for f in files] == ["tides.txt"]


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(PathNotFound, match="No such file or folder"):
        find_files([tmp_path / "nope"])


def test_markdown_title_is_the_heading_and_the_text_is_read_as_rendered():
    doc = load(DATA / "honeybees.md")
    assert doc.title == "Honeybee Colonies"
    assert doc.text.startswith("Honeybee Colonies\n\nA honeybee colony has one queen, a few hundred drones")


def test_text_title_is_the_first_line():
    doc = load(DATA / "tides.txt")
    assert doc.title == "Why the sea has two tides a day"


def test_html_keeps_the_article_and_drops_navigation_scripts_and_styles():
    doc = load(DATA / "volcano.html")
    assert doc.title == "Mount Ardent erupts after 40 years"
    assert "column of ash 9 kilometres" in doc.text
    for junk in ("Subscribe now", "SHOULD NOT BE INDEXED", "NAVIGATION SCRIPT TEXT", "font-family", "Cookie"):
        assert junk not in doc.text
    assert doc.metadata["author"] == "Lena Ortiz"
    assert doc.metadata["date"] == "2024-03-14"


def test_pdf_text_keeps_its_page_for_every_character():
    doc = load(DATA / "lighthouse.pdf")
    assert doc.title == "The Kestrel Lighthouse"
    assert [p.page for p in doc.pages] == [1, 2]
    assert doc.page_at(doc.text.index("built in 1871")) == 1
    assert doc.page_at(doc.text.index("automated in 1986")) == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("caf\u00e9 na\u00efve".encode("utf-8"), "caf\u00e9 na\u00efve"),
        ("caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00e0 la fa\u00e7on".encode("latin-1"),
         "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00e0 la fa\u00e7on"),
        ("z\u00fcrich\r\nline".encode("utf-16"), "z\u00fcrich\nline"),
        (b"\xef\xbb\xbfbom\r\nwin\rmac", "bom\nwin\nmac"),
    ],
)
def test_decode_text_handles_encodings_and_newlines(data, expected):
    assert decode_text(data) == expected


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary file"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "not a readable PDF"),
        ("blank.md", b"   \n\n  ", "no text found"),
    ],
)
def test_unreadable_files_raise_a_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedDocument, match=reason) as info:
        load(path)
    assert "\n" not in str(info.value)


def test_links_out_of_the_folder_are_not_followed_unless_asked(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("The launch code is 0000.")
    folder = tmp_path / "articles"
    (folder / "inner").mkdir(parents=True)
    (folder / "one.txt").write_text("An article.")
    (folder / "inner" / "two.txt").write_text("Another article.")
    os.symlink("../../secret.txt", folder / "inner" / "link-out.txt")
    os.symlink(tmp_path, folder / "whole-tree")
    os.symlink("inner/two.txt", folder / "link-in.txt")  # stays inside: followed

    found, skipped = find_files([folder])
    assert sorted(f.source for f in found) == ["inner/two.txt", "link-in.txt", "one.txt"]
    assert sorted((Path(s.path).name, s.reason) for s in skipped) == [
        ("link-out.txt", "a link that leads out of the folder given; not followed"),
        ("whole-tree", "a link that leads out of the folder given; not followed"),
    ]
    found, _ = find_files([folder], follow_links=True)
    assert "inner/link-out.txt" in {f.source for f in found}


def test_the_original_is_served_only_while_it_is_the_file_that_was_indexed(tmp_path, embedder):
    from qa import Retriever, build_index

    secret = tmp_path / "shadow.txt"
    secret.write_text("root:secret-hash:19000:0:99999:7:::")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "swap.txt").write_text("A harmless note about swapping shifts at the bakery.")
    (docs / "edit.txt").write_text("A note that will be edited after indexing.")
    build_index([docs], tmp_path / "idx", embedder=embedder, progress=False)
    retriever = Retriever.load(tmp_path / "idx", embedder=embedder)
    assert retriever.original_file("swap.txt") == (docs / "swap.txt").resolve()
    assert retriever.original_file("missing.txt") is None

    (docs / "swap.txt").unlink()
    os.symlink(secret, docs / "swap.txt")
    assert retriever.original_file("swap.txt") is None
    (docs / "edit.txt").write_text("Edited: a different text of another length.")
    assert retriever.original_file("edit.txt") is None
