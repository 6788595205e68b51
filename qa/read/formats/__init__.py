"""Reading each file format into text the way a person reads it (see :mod:`qa.read.formats.reading`).

One reader per format, each ``read_<format>(data, name) -> Reading``; ``name`` is the file's name
without its suffix, the title of last resort.
"""

from qa.read.formats.docx import read_docx
from qa.read.formats.epub import read_epub
from qa.read.formats.html import read_html
from qa.read.formats.odt import read_odt
from qa.read.formats.pdf import read_pdf
from qa.read.formats.reading import Reading
from qa.read.formats.text import decode_text, read_markdown, read_text

__all__ = ["Reading", "decode_text", "read_docx", "read_epub", "read_html", "read_markdown", "read_odt", "read_pdf",
           "read_text"]
