"""Reading each file format into text the way a person reads it (see :mod:`qa.formats.reading`).

One reader per format, each ``read_<format>(data, name) -> Reading``; ``name`` is the file's name
without its suffix, the title of last resort.
"""

from qa.formats.docx import read_docx
from qa.formats.epub import read_epub
from qa.formats.html import read_html
from qa.formats.odt import read_odt
from qa.formats.pdf import read_pdf
from qa.formats.reading import READING_RULES, Reading
from qa.formats.text import decode_text, read_markdown, read_text

__all__ = ["READING_RULES", "Reading", "decode_text", "read_docx", "read_epub", "read_html", "read_markdown",
           "read_odt", "read_pdf", "read_text"]
