"""Debounce and press detection on sampled button inputs (time in sample periods)."""

from __future__ import annotations

from rules.signals import DebouncedButton


def presses(samples: list[tuple[float, bool]], stable_s: float) -> list[float]:
    button = DebouncedButton(stable_s=stable_s)
    return [now for now, raw in samples if button.update(raw, now)]


def test_a_held_press_counts_once_after_it_is_stable() -> None:
    samples = [(float(t), t >= 10) for t in range(50)]
    assert presses(samples, stable_s=3) == [13.0]


def test_bounce_shorter_than_the_debounce_time_is_ignored() -> None:
    levels = [0, 1, 0, 1, 0, 0, 0, 1, 0, 0]
    samples = [(float(t), bool(level)) for t, level in enumerate(levels)]
    assert presses(samples, stable_s=2) == []


def test_release_bounce_does_not_make_a_second_press() -> None:
    levels = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0]
    samples = [(float(t), bool(level)) for t, level in enumerate(levels)]
    assert presses(samples, stable_s=2) == [3.0]


def test_two_real_presses_count_twice() -> None:
    levels = [0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    samples = [(float(t), bool(level)) for t, level in enumerate(levels)]
    assert presses(samples, stable_s=1) == [2.0, 8.0]


def test_zero_debounce_reports_the_first_high_sample() -> None:
    assert presses([(0.0, False), (0.1, True), (0.2, True)], stable_s=0.0) == [0.1]
