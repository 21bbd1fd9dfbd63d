"""The recorder: compact typed columns appended during a run, returned as numpy arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from govsim.records import Recorder

SEGMENT_COLUMNS = {"worker": np.int64, "start": np.float64, "end": np.float64, "k0": np.int64,
                   "visits": np.int64}
TIME_USE_COLUMNS = {"worker": np.int64, "state": np.int8, "start": np.float64, "end": np.float64}
VISIT_COLUMNS = {"station": np.int64, "issue_id": np.int64, "arrived": np.float64,
                 "started": np.float64, "ended": np.float64}


def check_columns(table, columns, n):
    assert list(table) == list(columns)
    for name, dtype in columns.items():
        arr = table[name]
        assert isinstance(arr, np.ndarray), name
        assert arr.dtype == dtype, name
        assert arr.shape == (n,), name


def test_empty_recorder_gives_empty_typed_columns():
    rec = Recorder()
    check_columns(rec.segments(), SEGMENT_COLUMNS, 0)
    check_columns(rec.time_uses(), TIME_USE_COLUMNS, 0)
    check_columns(rec.station_visits(), VISIT_COLUMNS, 0)


def test_patrol_segments_in_the_order_appended():
    rec = Recorder()
    rec.patrol_segment(3, 8.0, 9.25, 0, 6)
    rec.patrol_segment(0, 8.5, 17.0, 120, 41)
    rec.patrol_segment(3, 10.0, 10.0, 7, 1)
    seg = rec.segments()
    check_columns(seg, SEGMENT_COLUMNS, 3)
    assert seg["worker"].tolist() == [3, 0, 3]
    assert seg["start"].tolist() == [8.0, 8.5, 10.0]
    assert seg["end"].tolist() == [9.25, 17.0, 10.0]
    assert seg["k0"].tolist() == [0, 120, 7]
    assert seg["visits"].tolist() == [6, 41, 1]
    # the other tables are untouched
    check_columns(rec.time_uses(), TIME_USE_COLUMNS, 0)
    check_columns(rec.station_visits(), VISIT_COLUMNS, 0)


def test_large_visit_indices_are_kept_exactly():
    rec = Recorder()
    big = 2**40 + 3  # a very long run's visit number: beyond 32 bits
    rec.patrol_segment(1, 0.0, 1.0, big, big + 1)
    seg = rec.segments()
    assert int(seg["k0"][0]) == big
    assert int(seg["visits"][0]) == big + 1


def test_time_uses_in_the_order_appended():
    rec = Recorder()
    rec.time_use(2, 3, 8.0, 8.5)
    rec.time_use(2, 1, 8.5, 8.625)
    rec.time_use(0, 2, 9.0, 9.75)
    use = rec.time_uses()
    check_columns(use, TIME_USE_COLUMNS, 3)
    assert use["worker"].tolist() == [2, 2, 0]
    assert use["state"].tolist() == [3, 1, 2]
    assert use["start"].tolist() == [8.0, 8.5, 9.0]
    assert use["end"].tolist() == [8.5, 8.625, 9.75]
    check_columns(rec.segments(), SEGMENT_COLUMNS, 0)


def test_station_visits_keep_turned_away_and_unfinished_markers():
    rec = Recorder()
    rec.station_visit(0, 17, 1.5, 2.0, 3.25)
    rec.station_visit(1, 4, 2.0, -1.0, -1.0)  # turned away: queue full
    rec.station_visit(0, 9, 2.5, 3.25, math.nan)  # still in service at the end of the run
    rec.station_visit(0, 11, 2.75, math.nan, math.nan)  # still waiting
    v = rec.station_visits()
    check_columns(v, VISIT_COLUMNS, 4)
    assert v["station"].tolist() == [0, 1, 0, 0]
    assert v["issue_id"].tolist() == [17, 4, 9, 11]
    assert v["arrived"].tolist() == [1.5, 2.0, 2.5, 2.75]
    np.testing.assert_array_equal(v["started"], [2.0, -1.0, 3.25, np.nan])
    np.testing.assert_array_equal(v["ended"], [3.25, -1.0, np.nan, np.nan])


def test_tables_taken_before_the_end_match_the_records_so_far():
    rec = Recorder()
    rec.time_use(1, 0, 0.0, 1.0)
    assert rec.time_uses()["state"].tolist() == [0]
    rec.time_use(1, 3, 1.0, 2.0)  # the earlier table was not kept: appending goes on
    assert rec.time_uses()["state"].tolist() == [0, 3]


def test_a_table_held_by_the_caller_does_not_block_later_appends():
    rec = Recorder()
    rec.time_use(1, 0, 0.0, 1.0)
    first = rec.time_uses()
    rec.time_use(1, 3, 1.0, 2.0)
    first["start"][0] = 99.0
    assert rec.time_uses()["start"].tolist() == [0.0, 1.0]
    assert first["worker"].shape == (1,)


def test_native_issue_reader_matches_the_spec_reader():
    """IssueLog reads the issues table's columns with records.read_issues: the same arrays as
    the spec's generic reader, for the spec's columns as they are (ISSUE_FIELDS must follow
    ISSUES, or the log falls back to the slower generic reader)."""
    from govsim.issues import Channel, Issue, Status
    from govsim.records import ISSUE_FIELDS, IssueLog, read_issues
    from govsim.tables import ISSUES

    assert tuple((c.source, c.record_dtype) for c in ISSUES.recorded) == ISSUE_FIELDS
    assert IssueLog()._read_native
    issues = [Issue(i, i % 3, 7 + i, 40 + i, 2, 0.5 * i, 24.0, 1.25, math.inf if i % 2 else 30.0)
              for i in range(5)]
    issues[1].status, issues[1].channel, issues[1].discovered_at = Status.RESOLVED, Channel.REPORT, 2.5
    issues[2].department, issues[2].path, issues[2].settled_level, issues[2].handler = "roads", "grid", "grid", 4
    for got, want in ((read_issues(issues), ISSUES.read(issues)), (read_issues([]), ISSUES.read([]))):
        assert list(got) == list(want)
        for name in want:
            assert got[name].dtype == want[name].dtype and got[name].shape == want[name].shape, name
            assert got[name].tolist() == want[name].tolist() or (
                np.array_equal(got[name], want[name], equal_nan=True)), name
