"""``/documents/<source>``: an indexed document, opened at a passage with its quotes marked.

Text, Markdown and HTML documents are shown as the text that was indexed (the text every
citation's offsets point into), escaped, with the passage shaded and the quotes marked; the
raw HTML of a page is never served as a page. PDFs are served as the original file, which the
browser opens at the cited page. ``?download=1`` gives the original file as an attachment.
Only indexed documents are reachable, and an original file only while it is the very file that
was indexed (``Retriever.original_file``), never another file on disk.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from ui.login import login_dependencies
from ui.render import DOCUMENT_ROUTE, QUOTE_ANCHOR, is_pdf

if TYPE_CHECKING:
    from qa import Retriever

_SPAN = re.compile(r"(\d{1,12})-(\d{1,12})")
_NO_SCRIPTS = "sandbox allow-downloads; default-src 'none'; style-src 'unsafe-inline'"
_STYLE = f"""
body {{ font: 17px/1.6 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; color: #111827; }}
header {{ border-bottom: 1px solid #e5e7eb; margin-bottom: 1rem; }}
h1 {{ font-size: 1.3rem; margin: 0 0 .3rem; }} .meta {{ color: #6b7280; font-size: .9rem; }}
.text {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
.passage {{ background: #eff6ff; box-shadow: 0 0 0 4px #eff6ff; border-radius: 2px; }}
mark {{ background: #fde68a; color: inherit; padding: 0 1px; }}
#{QUOTE_ANCHOR} {{ scroll-margin-top: 30vh; }}
"""


def parse_span(value: str | None, length: int) -> tuple[int, int] | None:
    """``"start-end"`` as offsets inside a text of ``length`` characters, or None."""
    match = _SPAN.fullmatch(value or "")
    if not match:
        return None
    start, end = int(match[1]), int(match[2])
    return (start, end) if start < end <= length else None


def render_view(title: str, source: str, text: str, passage: tuple[int, int] | None,
                quotes: Sequence[tuple[int, int]]) -> str:
    """The document's ``text`` as an HTML page, ``passage`` shaded and ``quotes`` marked.

    Quotes outside the passage are ignored (citations always lie inside their passage); the
    first quote carries the id that the link's #fragment scrolls to.
    """
    start, end = passage or (0, 0)
    inside = sorted((a, b) for a, b in quotes if start <= a < b <= end)
    pieces, cursor = [], start
    for number, (a, b) in enumerate(inside):
        a = max(a, cursor)
        if a >= b:
            continue
        anchor = f' id="{QUOTE_ANCHOR}"' if number == 0 else ""
        pieces.append(f"{html.escape(text[cursor:a])}<mark{anchor}>{html.escape(text[a:b])}</mark>")
        cursor = b
    pieces.append(html.escape(text[cursor:end]))
    body = html.escape(text[:start])
    if passage:
        anchor = "" if inside else f' id="{QUOTE_ANCHOR}"'
        body += f'<span class="passage"{anchor}>{"".join(pieces)}</span>'
    body += html.escape(text[end:])
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>{html.escape(title)}</h1><p class="meta">{html.escape(source)} · the text as indexed · '
        '<a href="?download=1">download the original file</a></p></header>'
        f'<main class="text">{body}</main></body></html>'
    )


def document_response(retriever: Retriever, source: str, *, passage: str | None = None,
                      quotes: Sequence[str] = (), download: bool = False) -> Response:
    """The response for ``/documents/<source>`` (see the module's docstring)."""
    info = next((d for d in retriever.documents() if d.source == source), None)
    if info is None:
        return PlainTextResponse("No such document in the index.", status_code=404)
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": _NO_SCRIPTS}
    if is_pdf(source) or download:
        path = retriever.original_file(source)  # None unless it is still the very file that was indexed
        if path is None:
            return PlainTextResponse("The document's file is gone or has changed since it was indexed; "
                                     "run `qa index` to index it again.", status_code=404)
        if is_pdf(source) and not download:
            headers.pop("Content-Security-Policy")  # the browser's PDF viewer is a script
            return FileResponse(path, media_type="application/pdf", headers=headers, filename=path.name,
                                content_disposition_type="inline")
        return FileResponse(path, media_type="application/octet-stream", headers=headers, filename=path.name)
    try:
        text = retriever.document_text(source)
    except KeyError:  # removed since documents() was read
        return PlainTextResponse("No such document in the index.", status_code=404)
    marked = [span for value in quotes if (span := parse_span(value, len(text)))]
    page = render_view(info.title, source, text, parse_span(passage, len(text)), marked)
    return HTMLResponse(page, headers=headers)


def add_document_route(app: FastAPI, retriever: Retriever) -> None:
    """Serve indexed documents at ``/documents/<source>``, behind the same login as the page."""

    def open_document(request: Request, source: str) -> Response:
        query = request.query_params
        return document_response(retriever, source, passage=query.get("passage"),
                                 quotes=query.getlist("quote"), download=query.get("download") == "1")

    app.add_api_route(f"/{DOCUMENT_ROUTE}/{{source:path}}", open_document, methods=["GET"],
                      dependencies=login_dependencies(app), include_in_schema=False)
