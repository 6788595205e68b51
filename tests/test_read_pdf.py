"""PDFs read as a person reads them (the files are made by tests/make_test_pdfs.py)."""

import io
import re
from pathlib import Path

from qa.read.formats import read_pdf
from qa.text.sentences import split_sentences

DATA = Path(__file__).parent / "data" / "reading"


def read(name: str):
    return read_pdf((DATA / name).read_bytes(), Path(name).stem)


def test_two_columns_read_in_order_and_hyphenated_words_are_whole():
    reading = read("coastal-two-column.pdf")
    spans = [reading.text[s.start : s.end] for s in split_sentences(reading.text)]
    assert ("The brass fittings were polished weekly, and the clockwork was maintained by the keeper himself, "
            "who oiled its gears with a feather.") in spans
    # The left column's last paragraph comes before the right column's first.
    assert reading.text.index("at the foot of the tower") < reading.text.index("Supplies came by boat")
    assert ("Each evening a keeper climbed the tower stairs, trimmed the wick and wound the clockwork that "
            "turned the lens.") in spans


def test_running_heads_and_page_numbers_are_dropped():
    reading = read("coastal-two-column.pdf")
    assert "Coastal Notes" not in reading.text
    assert reading.text.count("Lighthouses of the North Sea") == 1  # the title on page 1, not the running head
    assert [span.page for span in reading.pages] == [1, 2]
    for span in reading.pages:
        page_text = reading.text[span.start : span.end]
        assert not page_text.rstrip().endswith(str(span.page))


def test_title_author_and_date_come_from_the_document_info():
    reading = read("coastal-two-column.pdf")
    assert reading.title == "Lighthouses of the North Sea"
    assert reading.metadata["author"] == "Mara Lindqvist"
    assert len(reading.metadata["date"]) == 10


def test_contents_and_index_pages_are_left_out_and_page_labels_kept():
    reading = read("keepers-handbook.pdf")
    assert ". . ." not in reading.text
    assert "Clockwork, winding of" not in reading.text and "Fresnel lens" not in reading.text
    assert [(span.page, span.label) for span in reading.pages] == [(1, "i"), (3, "1"), (4, "2")]
    second = reading.pages[2]
    assert "Paraffin lamps replaced oil" in reading.text[second.start : second.end]


def test_pages_without_labels_have_none():
    assert {span.label for span in read("coastal-two-column.pdf").pages} == {None}


KEEPER_PAGES = [
    ("2.1. THE LAMP", ["The keeper trimmed the wick every evening before sunset and wound the clockwork",
                       "that turned the great lens through the whole of the long winter night."]),
    ("2.2. THE FOG HORN", ["When fog rolled in from the sea the keeper sounded the horn every thirty",
                           "seconds and stayed awake until the morning light burned the fog away."]),
    ("2.3. SUPPLIES", ["A supply boat brought oil, flour and coal once a fortnight in the summer",
                       "months and once a month in winter when the crossings were often rough."]),
    ("2.4. THE DIARIES", ["Every keeper wrote a diary recording the weather at each watch and the",
                          "ships that passed, and scientists now count the birds noted in them."]),
]


def kerned_pdf(pages: list[tuple[str, list[str]]]) -> bytes:
    """A PDF whose words are set apart by kerning, not space characters, in a font whose code 32
    is a wide glyph: pypdf takes that for the width of a space and runs the words together, as it
    does in the debmake manual. Each page has a running head with the chapter's and the section's
    number and a page number at its foot."""
    shift = 29  # glyph ids, as a subset font numbers them: code 32 is "=", not a space
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
            "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
            "1 begincodespacerange <0000> <FFFF> endcodespacerange "
            f"1 beginbfrange <{0x21 - shift:04x}> <{0x7e - shift:04x}> <0021> endbfrange "
            "endcmap CMapName currentdict /CMap defineresource pop end end")
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "",
               "<< /Type /Font /Subtype /Type0 /BaseFont /Times-Roman /Encoding /Identity-H "
               "/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
               "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Times-Roman /CIDSystemInfo << /Registry (Adobe) "
               "/Ordering (Identity) /Supplement 0 >> /DW 500 /W [32 [564]] >>",
               f"<< /Length {len(cmap)} >>\nstream\n{cmap}\nendstream"]

    def shown(line: str) -> str:
        words = ("<" + "".join(f"{ord(c) - shift:04x}" for c in word) + ">" for word in line.split())
        return "[" + " -250 ".join(words) + "] TJ"

    kids = []
    for number, (section, lines) in enumerate(pages, start=1):
        rows = [(760, f"CHAPTER 2. KEEPING THE LIGHT {section}")]
        rows += [(700 - 14 * i, line) for i, line in enumerate(lines)] + [(60, str(number))]
        content = " ".join(f"BT /F1 10 Tf 72 {y} Td {shown(text)} ET" for y, text in rows)
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {len(objects)} 0 R >>")
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{kid} 0 R' for kid in kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    table = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{table}\n%%EOF\n".encode()
    return bytes(out)


def test_the_test_pdf_runs_words_together_in_pypdfs_reading():
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(kerned_pdf(KEEPER_PAGES))).pages[0].extract_text()
    assert "Thekeepertrimmedthewickeveryevening" in text


def test_pages_whose_words_run_together_are_read_again_with_their_spaces():
    reading = read_pdf(kerned_pdf(KEEPER_PAGES), "keepers")
    assert reading.respaced_pages == 4
    assert not re.search(r"[A-Za-z]{25,}", reading.text)
    assert ("The keeper trimmed the wick every evening before sunset and wound the clockwork that turned the "
            "great lens through the whole of the long winter night.") in reading.text.split("\n\n")
    assert [span.page for span in reading.pages] == [1, 2, 3, 4]


def test_running_heads_with_chapter_and_section_numbers_are_dropped():
    reading = read_pdf(kerned_pdf(KEEPER_PAGES), "keepers")
    assert "CHAPTER" not in reading.text and "KEEPING THE LIGHT" not in reading.text
    assert reading.text.split("\n\n")[0].startswith("The keeper trimmed")


def test_a_pdf_read_right_the_first_time_is_not_read_again():
    assert read("coastal-two-column.pdf").respaced_pages == 0


def test_the_index_report_says_how_many_pages_were_read_again(tmp_path):
    from click.testing import CliRunner

    from qa.cli import cli

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "keepers.pdf").write_bytes(kerned_pdf(KEEPER_PAGES))
    result = CliRunner().invoke(cli, ["index", str(docs), "--index-dir", str(tmp_path / "index"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Read 4 PDF page(s) with a second PDF library: the first ran their words together." in result.output


def test_a_title_property_with_a_web_address_is_no_title():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "coastal-two-column.pdf"))
    writer.add_metadata({"/Title": "X Desktop Group (http://www.freedesktop.org)"})
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read_pdf(buffer.getvalue(), "coastal").title == "Lighthouses of the North Sea"


def test_the_printed_page_label_shows_in_the_answer_when_it_differs_from_the_pdf_page(tmp_path):
    from click.testing import CliRunner

    from qa.cli import cli

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.pdf").write_bytes((DATA / "keepers-handbook.pdf").read_bytes())
    index = str(tmp_path / "index")
    assert CliRunner().invoke(cli, ["index", str(docs), "--index-dir", index, "--no-progress"]).exit_code == 0
    result = CliRunner().invoke(cli, ["ask", "What replaced oil in most stations?", "--index-dir", index])
    assert result.exit_code == 0, result.output
    assert "p. 2 (PDF page 4), chars" in result.output
