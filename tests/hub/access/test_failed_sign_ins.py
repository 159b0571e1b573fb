"""Failed sign-ins slow the next attempt down, per name and per address; never a lock-out.
Pure: each test chooses the moments."""

from __future__ import annotations

from hub.access.failed_sign_ins import MAX_KEYS, FailedSignIns, FailurePolicy

POLICY = FailurePolicy(free=3, delay_s=1.0, max_delay_s=10.0, window_s=900.0)
LI = ("name:li-wei", "address:10.0.0.7")


def test_free_failures_cost_nothing_then_each_doubles_up_to_the_cap() -> None:
    failures = FailedSignIns(POLICY)
    delays = []
    for second in range(9):
        delays.append(failures.delay(LI, float(second)))
        failures.failed(LI, float(second))
    # 0 to 3 failures are free; the 4th costs 1 s, then 2, 4, 8, and 10 at most.
    assert delays == [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_failures_older_than_the_window_are_forgotten() -> None:
    failures = FailedSignIns(POLICY)
    for second in range(5):
        failures.failed(LI, float(second))
    assert failures.delay(LI, 5.0) == 2.0
    # At 900.5 the failures of 0 s have left the window (900 s): 3 remain, which are free.
    assert failures.delay(LI, 901.5) == 0.0
    assert failures.delay(LI, 903.0) == 0.0
    assert failures.delay(LI, 904.5) == 0.0


def test_the_longest_wait_of_name_and_address_counts_and_success_clears_only_the_name() -> None:
    failures = FailedSignIns(POLICY)
    # One address guesses five names: each name is free, the address is not.
    for i in range(5):
        failures.failed((f"name:n{i}", "address:10.0.0.9"), float(i))
    assert failures.delay(("name:n0",), 5.0) == 0.0
    assert failures.delay(("name:li-wei", "address:10.0.0.9"), 5.0) == 2.0
    # Li Wei, elsewhere, is slowed by the guesses at her name, and signs in at last.
    for i in range(5):
        failures.failed(("name:li-wei", "address:10.9.9.9"), float(10 + i))
    assert failures.delay(("name:li-wei", "address:10.0.0.1"), 15.0) == 2.0
    failures.succeeded("name:li-wei")
    assert failures.delay(("name:li-wei", "address:10.0.0.1"), 15.0) == 0.0
    assert failures.delay(("address:10.9.9.9",), 15.0) == 2.0


def test_a_flood_of_made_up_names_is_bounded() -> None:
    failures = FailedSignIns(POLICY)
    for i in range(MAX_KEYS + 50):
        failures.failed((f"name:made-up-{i}",), 1.0)
    assert failures.remembered() == MAX_KEYS
