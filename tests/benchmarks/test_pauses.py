"""benchmarks.pauses: the gaps a spinning loop notes, and the process that notes them."""

from __future__ import annotations

import os

import pytest

from benchmarks.fidelity import floor_row
from benchmarks.load import Row
from benchmarks.pauses import measure, summarize


def test_gaps_are_counted_by_length_and_per_second_spun():
    pauses = summarize(1, True, 8.0, [0.0006, 0.0012, 0.0025, 0.0031, 0.0084])
    assert (pauses.over_1ms, pauses.over_2ms, pauses.longest_ms) == (4, 3, 8.4)
    assert pauses.over_2ms_per_second() == pytest.approx(0.375)
    assert summarize(0, False, 0.0, []).over_2ms_per_second() == 0.0


def test_the_floor_row_names_the_worst_core_and_the_longest_pause():
    floor = [summarize(0, True, 8.0, [0.0025]), summarize(1, True, 8.0, [0.003, 0.006, 0.0021])]
    found = floor_row(floor, "m", Row)
    assert found.harness == "0.38/s over 2 ms, longest 6.00 ms"
    assert found.ratio == "core 0: 1 over 2 ms in 8 s, core 1: 3 over 2 ms in 8 s"
    assert "realtime;" in found.measure and found.met is None
    assert "not realtime" in floor_row([summarize(0, False, 8.0, [])], "m", Row).measure


@pytest.mark.integration
def test_every_core_is_measured_in_its_own_process():
    found = measure(1.2, realtime=False)
    assert [p.cpu for p in found] == sorted(os.sched_getaffinity(0))
    assert all(not p.realtime and 0.3 < p.spun_seconds < 1.0 for p in found)
    assert all(p.longest_ms >= 0.0 and p.over_2ms <= p.over_1ms for p in found)
