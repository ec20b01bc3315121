import pytest

from harness.load.pacing import Pacer, RateSpan, concurrency_for

OPEN = (RateSpan(0, 10, 10.0),)


def claims(pacer: Pacer, times):
    return [pacer.claim(t) for t in times]


def test_slots_follow_the_rate_from_the_start():
    pacer = Pacer(OPEN)
    pacer.start(100.0)
    assert claims(pacer, [100.0] * 4) == pytest.approx([100.0, 100.1, 100.2, 100.3])


def test_a_stall_keeps_the_schedule_so_late_sends_are_charged_from_their_slot():
    pacer = Pacer(OPEN)
    pacer.start(0.0)
    assert pacer.claim(0.0) == 0.0
    # every user was held up for 2 s: the next slots are in the past, not re-based to now
    assert claims(pacer, [2.0, 2.0, 2.0]) == pytest.approx([0.1, 0.2, 0.3])


def test_share_and_phase_interleave_generators():
    first, second = Pacer(OPEN, share=0.5, phase=0.0), Pacer(OPEN, share=0.5, phase=0.5)
    first.start(0.0)
    second.start(0.0)
    a = claims(first, [0.0] * 3)
    b = claims(second, [0.0] * 3)
    assert a == pytest.approx([0.0, 0.2, 0.4])
    assert b == pytest.approx([0.1, 0.3, 0.5])
    assert sorted(a + b) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_closed_stages_are_not_paced_and_a_later_block_starts_fresh():
    pacer = Pacer((RateSpan(0, 1, 10.0), RateSpan(1, 2, None), RateSpan(2, 3, 20.0)))
    pacer.start(0.0)
    assert pacer.claim(0.0) == 0.0
    assert pacer.claim(1.5) is None and not pacer.active(1.5)
    # the backlog of the first block (slots 0.1 .. 0.9) is not carried into the second
    assert pacer.claim(2.5) == pytest.approx(2.0)
    assert pacer.claim(2.5) == pytest.approx(2.05)


def test_rate_changes_between_adjacent_stages():
    pacer = Pacer((RateSpan(0, 1, 2.0), RateSpan(1, 2, 10.0)))
    pacer.start(0.0)
    assert claims(pacer, [0.0, 0.0, 1.0, 1.0]) == pytest.approx([0.0, 0.5, 1.0, 1.1])


def test_before_start_and_after_the_last_stage_nothing_is_paced():
    pacer = Pacer(OPEN)
    assert pacer.claim(0.0) is None
    pacer.start(0.0)
    # after the planned end the generator sends nothing at all (Generator.over), so the rate
    # of the last stage does not run on until Locust stops the users
    assert pacer.claim(10.5) is None
    closed_last = Pacer((RateSpan(0, 1, 10.0), RateSpan(1, 2, None)))
    closed_last.start(0.0)
    assert closed_last.claim(2.5) is None


def test_due_between_integrates_the_rate():
    pacer = Pacer((RateSpan(0, 1, 10.0), RateSpan(1, 2, None), RateSpan(2, 4, 100.0)), share=0.5)
    pacer.start(50.0)
    assert pacer.due_between(50.0, 54.0) == pytest.approx(5 + 100)
    assert pacer.due_between(50.5, 52.5) == pytest.approx(2.5 + 25)
    assert pacer.due_between(53.0, 52.0) == 0


def test_concurrency_holds_a_second_of_requests_and_some_users_per_generator():
    assert concurrency_for(500) == 500
    assert concurrency_for(3) == 10
    assert concurrency_for(3, generators=4) == 40
    assert not Pacer((RateSpan(0, 1, None),)).paces
