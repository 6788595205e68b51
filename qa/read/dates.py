"""Publication dates: a document's metadata date as ISO 8601, and the bounds of a date filter.

A date comes only from what a document says about itself (HTML metadata, front matter, PDF
document info), never from the file: a file's modification time says when it was saved, not
when it was written, and must not pass for a publication date. Dates are kept as ISO 8601
text, ``2023-07-08``, or ``2023-07`` / ``2023`` when that is all the document says; such text
sorts in date order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from qa.errors import InvalidInput

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_NUMERIC = re.compile(r"(?:D:)?(\d{4})(?:[-/.]?(\d{2})(?:[-/.]?(\d{2}))?)?")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_BOUND = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def iso_date(value: object) -> str | None:
    """``value`` (a metadata date: "2023-07-08T10:00:00Z", "D:20230708...", "8 July 2023",
    "July 8, 2023", a ``date``) as ISO 8601 text, or None when it isn't a date.

    Only the day is kept: the time of day of a publication is rarely known, and never needed
    to order or filter articles.
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if match := _NUMERIC.match(text):
        return _checked(*match.groups())
    if match := _DAY_MONTH_YEAR.search(text):
        day, month, year = match.groups()
        return _named(year, month, day)
    if match := _MONTH_DAY_YEAR.search(text):
        month, day, year = match.groups()
        return _named(year, month, day)
    return None


def _named(year: str, month: str, day: str) -> str | None:
    number = _MONTHS.get(month.lower())
    return _checked(year, f"{number:02d}", f"{int(day):02d}") if number else None


def _checked(year: str, month: str | None, day: str | None) -> str | None:
    """The ISO text of a year, month and day (month and day optional), None when there's no such day."""
    try:
        if day is not None and month is not None:
            return dt.date(int(year), int(month), int(day)).isoformat()
        if month is not None:
            return f"{int(year):04d}-{int(month):02d}" if 1 <= int(month) <= 12 else None
    except ValueError:
        return None
    return f"{int(year):04d}"


def day_range(iso: str) -> tuple[str, str]:
    """The first and last day (ISO) that a date of any precision ("2023", "2023-07", "2023-07-08") covers."""
    parts = [int(part) for part in iso.split("-")]
    year, month = parts[0], parts[1] if len(parts) > 1 else None
    if len(parts) == 3:
        return iso, iso
    if month is None:
        return f"{year:04d}-01-01", f"{year:04d}-12-31"
    last = calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"


def date_bound(value: str | dt.date | None, *, name: str, end: bool = False) -> str | None:
    """A ``since`` / ``until`` argument as the ISO day it stands for: "2023-07" since is
    2023-07-01, until is 2023-07-31. InvalidInput (naming ``name``) for anything but a date."""
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return iso_date(value)
    match = _BOUND.fullmatch(value.strip()) if isinstance(value, str) else None
    iso = _checked(*match.groups()) if match else None
    if iso is None:
        raise InvalidInput(f"{name} must be a date such as 2023-07-01 (or 2023-07, or 2023), not {value!r}.",
                           argument=name)
    return day_range(iso)[1 if end else 0]
