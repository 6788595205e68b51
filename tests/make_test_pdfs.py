"""Write the small PDFs under tests/data/reading that test PDF reading (run by hand; needs reportlab).

    python tests/make_test_pdfs.py   # writes tests/data/reading/*.pdf

- ``coastal-two-column.pdf``: two pages set in two columns, with a running head and a page
  number on every page, paragraphs wrapped at the column edge and one word hyphenated at a line end.
- ``keepers-handbook.pdf``: a title page and a contents page (page labels i, ii), two pages of text
  (1, 2) and a back-of-book index page (3) with dot leaders and page-number columns.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

DATA = Path(__file__).parent / "data" / "reading"
FONT, SIZE, LEADING = "Times-Roman", 10, 12.5

COASTAL = [
    "Lighthouses along the North Sea coast were once lit by hand. Each evening a keeper climbed "
    "the tower stairs, trimmed the wick and wound the clockwork that turned the lens.",
    "The lamp at Hornum burned rapeseed oil until 1902, when it was converted to paraffin. The "
    "brighter flame could be seen from twenty nautical miles away in clear weather.",
    "HYPHEN",
    "Fog was the keeper's worst enemy. When the light could not reach the ships, a horn was "
    "sounded every thirty seconds, and the keeper stayed awake until the fog lifted at dawn.",
    "Storms brought other duties. Salt spray crusted the lantern glass, and after every gale the "
    "panes were washed with fresh water carried up from the cistern at the foot of the tower.",
    "Supplies came by boat once a fortnight in summer and once a month in winter. A station kept "
    "enough oil, flour and coal for six weeks in case the boat could not land.",
    "The last keeper of the Hornum light retired in 1978, when the lamp was automated and "
    "connected to the mainland by cable. The tower is now a museum open every afternoon.",
    "Visitors can climb the 183 steps to the gallery, where a plaque lists the names of all "
    "forty-one keepers who served there since the light was first lit in 1857.",
    "Other towers on the coast kept their keepers longer. At Amrum the light was watched by hand "
    "until 1984, and the keeper's house became a youth hostel the following spring.",
    "Many keepers kept diaries. They recorded the weather at every watch, the ships that passed "
    "and the birds that struck the lantern glass on autumn nights during the migration.",
    "Those diaries are now read by scientists, who count the birds in them to learn how the "
    "numbers of thrushes and starlings crossing the sea have changed over a century.",
    "The oldest diary in the Hornum museum was begun in 1861. Its first page notes a gale that "
    "lasted three days and a Danish schooner that sheltered in the lee of the island.",
    "Paraffin, oil and finally electricity each changed the work, but the keepers' routine of "
    "cleaning, winding and watching stayed much the same for more than a hundred years.",
    "Today the lights are watched from a control room on the mainland, where one engineer "
    "looks after twelve towers and is called out only when a lamp fails.",
]
# Wrapped by hand so that "maintained" is hyphenated at the end of a line.
HYPHENATED = [
    "Keeping the great lens clean was",
    "the first task of every morning.",
    "The brass fittings were polished",
    "weekly, and the clockwork was main-",
    "tained by the keeper himself, who",
    "oiled its gears with a feather.",
]


def two_column(path: Path) -> None:
    canvas = Canvas(str(path), pagesize=A5)
    canvas.setTitle("Lighthouses of the North Sea")
    canvas.setAuthor("Mara Lindqvist")
    width, height = A5
    margin, gutter = 40, 20
    column = (width - 2 * margin - gutter) / 2
    columns = [margin, margin + column + gutter]
    top, bottom = height - 100, 60

    page, col, y = 1, 0, top

    def furniture() -> None:
        canvas.setFont("Times-Italic", 9)
        canvas.drawString(margin, height - 40, "Coastal Notes, Volume 3")
        canvas.drawRightString(width - margin, height - 40, "Lighthouses of the North Sea")
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(width / 2, 35, str(page))

    furniture()
    canvas.setFont("Times-Bold", 18)
    canvas.drawString(margin, height - 75, "Lighthouses of the North Sea")
    for paragraph in COASTAL:
        lines = HYPHENATED if paragraph == "HYPHEN" else simpleSplit(paragraph, FONT, SIZE, column)
        if y - LEADING * len(lines) < bottom:
            col += 1
            y = top
            if col == 2:
                canvas.showPage()
                page, col = page + 1, 0
                furniture()
        canvas.setFont(FONT, SIZE)
        for line in lines:
            canvas.drawString(columns[col], y, line)
            y -= LEADING
        y -= LEADING * 0.8  # the space between paragraphs
    canvas.showPage()
    canvas.save()


INDEX_ENTRIES = [
    ("Beacon fires", "1"), ("Clockwork, winding of", "1, 2"), ("Fog horn", "2"),
    ("Fresnel lens", "1"), ("Keepers, duties of", "1-2"), ("Paraffin lamps", "2"),
    ("Storm shutters", "2"), ("Wick trimming", "1"),
]
HANDBOOK = [
    ["The keeper's day began an hour before sunset. He carried the oil up the tower, trimmed the "
     "wick square with scissors and lit the lamp with a taper.",
     "Through the night the clockwork had to be wound every four hours, or the lens would stop "
     "turning and the light would show as a fixed beam that sailors could mistake for a ship."],
    ["In fog the keeper sounded the horn every thirty seconds. Paraffin lamps replaced oil in most "
     "stations before the First World War.",
     "Storm shutters protected the lantern room in the worst gales, and a logbook recorded the "
     "weather, the ships that passed and every hour the light was lit."],
]


def handbook(path: Path) -> None:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setTitle("The Keeper's Handbook")
    width, height = A4
    margin = 72
    canvas.setFont("Times-Bold", 22)
    canvas.drawCentredString(width / 2, height / 2, "The Keeper's Handbook")
    canvas.showPage()
    canvas.setFont("Times-Bold", 14)
    canvas.drawString(margin, height - 90, "Contents")
    canvas.setFont(FONT, 11)
    for i, (entry, page) in enumerate([("Lighting the lamp", "1"), ("Fog and storms", "2"), ("Index", "3")]):
        y = height - 130 - 18 * i
        canvas.drawString(margin, y, entry + " " + ". " * 30)
        canvas.drawRightString(width - margin, y, page)
    canvas.showPage()
    for number, paragraphs in enumerate(HANDBOOK, start=1):
        y = height - 90
        canvas.setFont(FONT, 11)
        for paragraph in paragraphs:
            for line in simpleSplit(paragraph, FONT, 11, width - 2 * margin):
                canvas.drawString(margin, y, line)
                y -= 14
            y -= 10
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(width / 2, 45, str(number))
        canvas.showPage()
    canvas.setFont("Times-Bold", 14)
    canvas.drawString(margin, height - 90, "Index")
    canvas.setFont(FONT, 11)
    for i, (entry, pages) in enumerate(INDEX_ENTRIES):
        y = height - 130 - 16 * i
        canvas.drawString(margin, y, entry)
        canvas.drawRightString(width / 2, y, pages)
    canvas.setFont(FONT, 9)
    canvas.drawCentredString(width / 2, 45, "3")
    canvas.showPage()
    canvas.save()
    # Front matter numbered i, ii; the text from 1 on.
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.set_page_label(0, 1, style="/r")
    writer.set_page_label(2, 4, style="/D", start=1)
    with open(path, "wb") as handle:
        writer.write(handle)


if __name__ == "__main__":
    two_column(DATA / "coastal-two-column.pdf")
    handbook(DATA / "keepers-handbook.pdf")
