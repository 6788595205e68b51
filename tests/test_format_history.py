import datetime as dt

from qa.format_history import CHANGES, REBUILD, RECALIBRATE, RECOPY, REEXPORT, REREAD, RESPLIT, changes_since, version


def test_changes_are_numbered_in_date_order():
    assert [change.number for change in CHANGES] == list(range(1, len(CHANGES) + 1))
    dates = [dt.date.fromisoformat(change.date) for change in CHANGES]
    assert dates == sorted(dates)
    assert {change.needs for change in CHANGES} == {REBUILD, REREAD, RESPLIT, RECOPY, RECALIBRATE, REEXPORT}


def test_a_kind_is_at_the_version_of_its_last_change():
    # The numbers indexes already record: a new entry of a kind moves its version on by one.
    assert [version(kind) for kind in (REBUILD, REREAD, RESPLIT, RECOPY, RECALIBRATE, REEXPORT)] == [1, 3, 2, 1, 8, 1]


def test_an_index_is_told_the_changes_it_missed_and_what_meets_them():
    current = {kind: version(kind) for kind in (REBUILD, REREAD, RESPLIT, RECOPY, RECALIBRATE)}
    assert changes_since(current) == []
    missed = changes_since({**current, RESPLIT: 1, RECOPY: 0})
    assert [change.needs for change in missed] == [RESPLIT, RECOPY]
    assert missed[0].describe() == "passages follow paragraphs (2026-11-27): re-split by the next `qa index`"
    assert [change.number for change in changes_since({RECALIBRATE: 5})] == [
        change.number for change in CHANGES if change.needs == RECALIBRATE][5:]
    assert changes_since({}) == [], "kinds an index does not record are not asked of it"
