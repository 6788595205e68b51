"""Small Word, EPUB and OpenDocument files for the tests, made with the libraries that write them
(python-docx, odfpy) or with zipfile, never copied from anywhere."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


def zip_bytes(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def members_of(data: bytes) -> dict[str, bytes]:
    """The members of the archive ``data``, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def stored(data: bytes) -> bytes:
    """The archive ``data`` again, its members stored uncompressed (so a test can damage one's bytes)."""
    return zip_bytes(members_of(data), zipfile.ZIP_STORED)


def keepers_docx(*, title: str | None = "The Keeper's Year", footnote: str | None = None) -> bytes:
    """A Word file: a Title paragraph, two Heading 1 sections (the second with a Heading 2), a bulleted
    list, a table, a comment, and a footnote when ``footnote`` is given; title, author and date set."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = title or ""
    properties.author = "Ines Varga"
    properties.created = dt.datetime(2022, 3, 14, 9, 30)
    document.add_paragraph("The Keeper's Year", style="Title")
    document.add_heading("Winter duties", level=1)
    watch = document.add_paragraph("In winter the keeper wound the clockwork every four hours through the night.")
    document.add_paragraph("Trim the wick at dusk", style="List Bullet")
    document.add_paragraph("Wash the salt from the lantern glass", style="List Bullet")
    document.add_heading("Summer duties", level=1)
    document.add_heading("Painting", level=2)
    document.add_paragraph("Every summer the tower was painted white with a red band at the gallery.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in enumerate((("Month", "Oil burned"), ("June", "40 litres"))):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_comment(watch.runs, text="Ask the museum whether it was four or six hours.", author="Bo Lind")
    buffer = io.BytesIO()
    document.save(buffer)
    return with_footnote(buffer.getvalue(), footnote) if footnote else buffer.getvalue()


def with_footnote(data: bytes, text: str) -> bytes:
    """A .docx with a footnote holding ``text``, referenced from its first body paragraph that has runs."""
    members = members_of(data)
    members["word/footnotes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:footnote></w:footnotes>').encode()
    rels = members["word/_rels/document.xml.rels"].decode()
    relationship = f'<Relationship Id="rIdNote" Type="{FOOTNOTES_TYPE}" Target="footnotes.xml"/>'
    members["word/_rels/document.xml.rels"] = rels.replace("</Relationships>",
                                                           f"{relationship}</Relationships>").encode()
    types = members["[Content_Types].xml"].decode()
    members["[Content_Types].xml"] = types.replace("</Types>", (
        '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.footnotes+xml"/></Types>')).encode()
    body = members["word/document.xml"].decode()
    reference = '<w:r><w:footnoteReference w:id="1"/></w:r></w:p>'
    start = body.index("four hours through the night.")
    end = body.index("</w:p>", start)
    members["word/document.xml"] = (body[:end] + reference + body[end + len("</w:p>"):]).encode()
    return zip_bytes(members)


def tides_odt() -> bytes:
    """An OpenDocument text: two headed sections, a footnote, an annotation, a list and a table."""
    from odf import dc, meta, office, table, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Reading the Tides"))
    document.meta.addElement(meta.InitialCreator(text="Mira Sand"))
    document.meta.addElement(meta.CreationDate(text="2021-05-04T10:00:00"))
    document.text.addElement(text.H(outlinelevel=1, text="Spring tides"))
    paragraph = text.P(text="Spring tides come twice a month")
    note = text.Note(noteclass="footnote", id="ftn1")
    note.addElement(text.NoteCitation(text="1"))
    body = text.NoteBody()
    body.addElement(text.P(text="They follow the new and the full moon."))
    note.addElement(body)
    paragraph.addElement(note)
    paragraph.addText(" and raise the highest water of the year.")
    comment = office.Annotation()
    comment.addElement(text.P(text="Check the harbour office's figure."))
    paragraph.addElement(comment)
    document.text.addElement(paragraph)
    items = text.List()
    for words in ("Read the almanac", "Watch the moon"):
        item = text.ListItem()
        item.addElement(text.P(text=words))
        items.addElement(item)
    document.text.addElement(items)
    document.text.addElement(text.H(outlinelevel=1, text="Neap tides"))
    document.text.addElement(text.P(text="Neap tides rise and fall the least, in the moon's quarters."))
    grid = table.Table(name="Ranges")
    for cells in (("Port", "Range"), ("Brest", "7 metres")):
        row = table.TableRow()
        for words in cells:
            cell = table.TableCell()
            cell.addElement(text.P(text=words))
            row.addElement(cell)
        grid.addElement(row)
    document.text.addElement(grid)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


CONTAINER = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
             '</rootfiles></container>')


def epub(chapters: list[str], *, title: str = "The Lamp Room", creator: str = "Ines Varga", date: str = "2019-03-02",
         hrefs: list[str] | None = None, extra: dict[str, bytes | str] | None = None) -> bytes:
    """An EPUB 3 book with a navigation document and one XHTML document per chapter body in ``chapters``
    (at ``hrefs`` when given, relative to the package file in OEBPS/)."""
    hrefs = hrefs or [f"Text/chapter{i}.xhtml" for i in range(len(chapters))]
    items = "".join(f'<item id="c{i}" href="{href}" media-type="application/xhtml+xml"/>'
                    for i, href in enumerate(hrefs))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(hrefs)))
    package = ('<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
               f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
               f'<dc:creator>{creator}</dc:creator><dc:date>{date}</dc:date></metadata>'
               '<manifest><item id="nav" href="nav.xhtml" properties="nav" media-type="application/xhtml+xml"/>'
               f'{items}</manifest><spine><itemref idref="nav"/>{spine}</spine></package>')
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip", "META-INF/container.xml": CONTAINER, "OEBPS/content.opf": package,
        "OEBPS/nav.xhtml": ('<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
                            '<body><nav epub:type="toc"><ol><li>Contents entry one</li></ol></nav></body></html>'),
    }
    for href, body in zip(hrefs, chapters, strict=False):  # hrefs past the chapters point nowhere
        members[f"OEBPS/{href}"] = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
                                    'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Chapter</title></head>'
                                    f'<body>{body}</body></html>').encode()
    return zip_bytes({**members, **(extra or {})})
