"""Long press and chatter, on time given as numbers (no clock)."""

from __future__ import annotations

from rules.buttons import Admission, ChatterGuard, HoldClassifier, Press


def _feed(classifier: HoldClassifier, samples: list[tuple[float, bool]]) -> list[Press]:
    return [kind for now, level in samples if (kind := classifier.update(level, now)) is not None]


def test_a_press_released_before_the_hold_time_is_short_and_counts_on_release() -> None:
    hold = HoldClassifier(hold_s=2.0)
    assert _feed(hold, [(0.0, True), (1.0, True), (1.9, True)]) == []
    assert _feed(hold, [(2.0 - 0.05, False)]) == [Press.SHORT]


def test_a_press_held_for_the_hold_time_is_long_once_and_its_release_adds_nothing() -> None:
    hold = HoldClassifier(hold_s=2.0)
    samples = [(t / 10, True) for t in range(0, 50)] + [(5.0, False), (5.1, False)]
    assert _feed(hold, samples) == [Press.LONG]


def test_two_presses_are_two_and_idle_samples_are_nothing() -> None:
    hold = HoldClassifier(hold_s=1.0)
    samples = [(0.0, False), (0.1, True), (0.2, False), (0.3, False), (1.0, True), (2.5, True),
               (2.6, False)]  # fmt: skip
    assert _feed(hold, samples) == [Press.SHORT, Press.LONG]


def test_more_presses_than_the_limit_in_a_minute_are_reported_once_then_dropped() -> None:
    guard = ChatterGuard(max_presses=3, window_s=60.0)
    verdicts = [guard.admit(float(t)) for t in range(8)]
    assert [v.admission for v in verdicts] == [Admission.ACCEPT] * 3 + [Admission.REPORT] + [
        Admission.SUPPRESS
    ] * 4
    assert verdicts[3].presses == 4


def test_after_a_quiet_minute_presses_count_again_and_new_chatter_is_reported_again() -> None:
    guard = ChatterGuard(max_presses=2, window_s=60.0)
    for t in (0.0, 1.0, 2.0, 3.0):
        guard.admit(t)
    assert guard.admit(100.0).admission is Admission.ACCEPT
    assert guard.admit(101.0).admission is Admission.ACCEPT
    assert guard.admit(102.0).admission is Admission.REPORT


def test_presses_spread_over_more_than_a_minute_are_no_chatter() -> None:
    guard = ChatterGuard(max_presses=2, window_s=60.0)
    assert {guard.admit(t * 31.0).admission for t in range(10)} == {Admission.ACCEPT}
