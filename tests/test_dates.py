"""Publication dates from metadata as ISO 8601, the bounds of a date filter, and what a filter lets through."""

from __future__ import annotations

import datetime as dt

import pytest

from qa import InvalidInput
from qa.read.dates import date_bound, day_range, iso_date
from qa.search.filters import DocumentFilter, document_filter


@pytest.mark.parametrize(("value", "iso"), [
    ("2024-03-06", "2024-03-06"),
    ("2024-03-06T07:05:00+00:00", "2024-03-06"),
    ("D:20240306070500+01'00'", "2024-03-06"),  # PDF document info
    ("6 March 2024", "2024-03-06"),
    ("March 6, 2024", "2024-03-06"),
    ("Wed, 6 Mar 2024 07:05:00 GMT", "2024-03-06"),
    ("2024-03", "2024-03"),
    ("2024", "2024"),
    (dt.date(2024, 3, 6), "2024-03-06"),
    ("2024-02-30", None),
    ("2024-13", None),
    ("06/03/2024", None),  # day or month first? Not a date qa can be sure of
    ("last week", None),
    ("", None),
    (None, None),
])
def test_metadata_dates_become_iso_8601_or_nothing(value, iso):
    assert iso_date(value) == iso


def test_a_bound_covers_the_whole_month_or_year_it_names():
    assert date_bound("2024-02", name="since") == "2024-02-01"
    assert date_bound("2024-02", name="until", end=True) == "2024-02-29"
    assert date_bound("2023", name="until", end=True) == "2023-12-31"
    assert day_range("2024-03") == ("2024-03-01", "2024-03-31")
    assert date_bound(None, name="since") is None and date_bound("", name="since") is None


@pytest.mark.parametrize("bad", ["March", "2024-3-40", "yesterday", "2024/03/01"])
def test_a_bad_bound_is_one_clear_message(bad):
    with pytest.raises(InvalidInput, match=r"^since must be a date such as 2023-07-01"):
        date_bound(bad, name="since")


def test_filter_keeps_dated_documents_in_range_and_leaves_undated_ones_out():
    wanted = document_filter("2024-03-01", "2024-03-05")
    assert wanted.matches("a.html", "2024-03-02")
    assert wanted.matches("a.html", "2024-03-05")
    assert not wanted.matches("a.html", "2024-03-06")
    assert not wanted.matches("a.txt", None)  # nothing says it falls in the range
    assert not wanted.matches("a.md", "2024-03")  # a month that reaches past the range
    assert document_filter(since="2024").matches("a.md", "2024-03")


def test_source_patterns_are_globs_over_ids():
    wanted = document_filter(source=["reports/*", "wire/*.md"])
    assert wanted.matches("reports/river-times.html", None)
    assert wanted.matches("wire/bridge.md", None)
    assert not wanted.matches("wire/bridge.txt", None)
    assert document_filter() is None


def test_filter_input_errors_name_the_problem():
    with pytest.raises(InvalidInput, match=r"ends \(2024-03-01\) before it starts \(2024-03-05\)"):
        document_filter("2024-03-05", "2024-03-01")
    with pytest.raises(InvalidInput, match="non-empty glob"):
        document_filter(source=[""])
    with pytest.raises(InvalidInput, match=r"^No indexed document is dated 2025-01-01 to now and matching 'x\*'\.$"):
        DocumentFilter("2025-01-01", None, ("x*",)).allowed_sources({"x.html": "2024-01-01"})
