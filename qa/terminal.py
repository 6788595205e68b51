"""Answers as terminal text: control characters stripped, colour and width from the terminal.

Everything the CLI prints that could come from a document, a file name or an error message
passes through :func:`printable`, so a document can't move the cursor, retitle the window or
write the clipboard with escape sequences. Colour is used only on a terminal and never when
``$NO_COLOR`` is set; pipes and files get plain text.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from qa import Answer, Hit, Quote

PIPE_WIDTH = 100
"""Line width when the output is not a terminal (``$COLUMNS`` overrides it)."""
MIN_WIDTH = 40
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1_AND_DEL = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}
QUOTE_OPEN, QUOTE_CLOSE = "\u00bb", "\u00ab"
"""Around the quote inside the passage it was read in: »quote«."""


def printable(text: str) -> str:
    """``text`` without control characters (C0 but newline and tab, DEL, C1)."""
    return _CONTROL.sub("", text)


def printable_json(text: str) -> str:
    """JSON text with DEL and C1 characters written as ``\\u`` escapes (json already escapes C0).

    The data stays the same; only its spelling changes, so no terminal reads them as controls.
    """
    return text.translate(_C1_AND_DEL)


@dataclass(frozen=True)
class Terminal:
    """Where output goes: whether to colour it and how wide a line may be."""

    color: bool = False
    width: int = PIPE_WIDTH

    @classmethod
    def of(cls, stream: TextIO) -> Terminal:
        """Colour on a terminal unless ``$NO_COLOR`` is set or ``TERM=dumb``; the width is
        ``$COLUMNS``, else the terminal's, else PIPE_WIDTH."""
        tty = bool(getattr(stream, "isatty", lambda: False)())
        color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        return cls(color, max(MIN_WIDTH, _width(stream, tty)))

    def style(self, text: str, **styles) -> str:
        """``text`` with click styles (``bold=True``, ``fg="yellow"``) when colour is on."""
        return click.style(text, **styles) if self.color else text


def _width(stream: TextIO, tty: bool) -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return int(columns)
    if tty:
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            pass
    return PIPE_WIDTH


def format_answer(answer: Answer, terminal: Terminal = Terminal(), *, full: bool = False) -> str:
    """An Answer as terminal text.

    Answered: each quote verbatim with its citation and the passage it was read in (the quote
    between » and «). Not found: the closest passages, one line each, or whole with ``full``.
    """
    if answer.answered:
        blocks = [_quote_block(answer, number, quote, terminal) for number, quote in enumerate(answer.quotes, start=1)]
        heading = [terminal.style(printable(answer.time_note), bold=True)] if answer.time_note else []
        return "\n\n".join(heading + blocks)
    lines = [terminal.style("Not found in the documents.", bold=True)]
    if answer.hits:
        lines.append("Closest passages (weak matches, not answers):")
        for number, hit in enumerate(answer.hits, start=1):
            lines.append(_weak_match(number, hit, terminal, full))
    return "\n".join(lines)


def also_in(item: Hit | Quote) -> str:
    """'also in: b.html, c.pdf (3 documents)' for text that copies of one story share, or ""."""
    if not item.also_in:
        return ""
    return printable(f"also in: {', '.join(item.also_in)} ({len(item.also_in) + 1} documents)")


def citation(item: Hit | Quote) -> str:
    """'Title (file, date, p. N, chars a-b; score s)', printable."""
    return printable(f"{item.title} ({_where(item)}, chars {item.start}-{item.end}; score {item.score:.2f})")


def _where(item: Hit | Quote) -> str:
    """'file, date, p. N': the document and the page (or section), as far as they are known."""
    date = f", {item.date}" if item.date else ""
    page = f", {item.place}" if item.place else ""
    return f"{item.source}{date}{page}"


def _quote_block(answer: Answer, number: int, quote: Quote, terminal: Terminal) -> str:
    lead = ""
    if quote.context:  # whose list or words it is, from before the quote: it leads into the quote, on its line
        said = printable(" ".join(quote.context.text.split()))
        lead = terminal.style(f"{_shortened(said, terminal.width // 2)} ", dim=True)
    lines = [terminal.style(f"[{number}]", fg="cyan", bold=True) + " " + lead
             + terminal.style(f"\u201c{printable(quote.text)}\u201d", bold=True),
             terminal.style(f"    \u2014 {citation(quote)}", dim=True)]
    if copies := also_in(quote):
        lines.append(terminal.style(f"    {copies}", dim=True))
    context = answer.passage_of(quote)
    if context:
        before = context.text[: quote.start - context.start]
        after = context.text[quote.end - context.start :]
        marked = printable(" ".join(f"{before}{QUOTE_OPEN}{quote.text}{QUOTE_CLOSE}{after}".split()))
        wrapped = textwrap.wrap(marked, max(MIN_WIDTH, terminal.width - 6), break_on_hyphens=False)
        lines.extend("    | " + line for line in _highlight_quote(wrapped, terminal))
    return "\n".join(lines)


def _shortened(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters from its end, where the attribution leads into the quote,
    at a word's start where one is near."""
    if len(text) <= width:
        return text
    tail = text[-(max(MIN_WIDTH, width) - 1):]
    space = tail.find(" ")
    return "\u2026" + (tail[space + 1 :] if 0 <= space < len(tail) // 3 else tail).lstrip()


def _middle_cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters in its middle, keeping a file name's start and its end."""
    width = max(width, 12)
    if len(text) <= width:
        return text
    return text[: width // 2] + "\u2026" + text[-(width - width // 2 - 1) :]


def _highlight_quote(lines: list[str], terminal: Terminal) -> list[str]:
    """Wrapped lines with the part between » and « in colour (the marks may fall on any line)."""
    if not terminal.color:
        return lines
    inside, styled = False, []
    for line in lines:
        parts = re.split(f"([{QUOTE_OPEN}{QUOTE_CLOSE}])", line)
        out = []
        for part in parts:
            if part in (QUOTE_OPEN, QUOTE_CLOSE):
                inside = part == QUOTE_OPEN
                out.append(part)
            elif part:
                out.append(terminal.style(part, fg="yellow", bold=True) if inside else part)
        styled.append("".join(out))
    return styled


def _weak_match(number: int, hit: Hit, terminal: Terminal, full: bool) -> str:
    head = f"  ({number}) "
    text = printable(" ".join(hit.text.split()))
    if full:
        body = textwrap.fill(text, max(MIN_WIDTH, terminal.width - 6))
        return f"{head}{terminal.style(citation(hit), dim=True)}\n" + textwrap.indent(body, "      ")
    room = terminal.width - len(head)
    label = printable(f"{_middle_cut(_where(hit), room // 2 - 9)} ({hit.score:.2f}): ")  # the preview keeps half
    line = label + text
    if len(line) > room:
        line = line[: room - 1].rstrip() + "\u2026"
    return head + terminal.style(line[: len(label)], dim=True) + line[len(label) :]
