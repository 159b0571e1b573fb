"""A machine's state from its tags, and part counters read across resets and wraps: pure."""

from __future__ import annotations

from rules.machine_states import StateRule, machine_state, part_increment

RULES = [
    StateRule("fault_code", "not", 0, "down"),
    StateRule("changeover", "is", True, "changeover"),
    StateRule("speed", "below", 5, "starved"),
    StateRule("running", "is", True, "running"),
]


def test_the_first_rule_that_holds_names_the_state() -> None:
    base = {"fault_code": 0, "changeover": False, "speed": 10.0, "running": 1}
    assert machine_state(RULES, "idle", base) == "running"
    assert machine_state(RULES, "idle", {**base, "fault_code": 17, "changeover": True}) == "down"
    assert machine_state(RULES, "idle", {**base, "changeover": 1}) == "changeover"
    assert machine_state(RULES, "idle", {**base, "speed": 4.99}) == "starved"
    assert machine_state(RULES, "idle", {**base, "running": False}) == "idle"


def test_true_is_1_so_a_coil_and_a_register_read_alike() -> None:
    rule = StateRule("running", "is", True, "running")
    assert [rule.holds(value) for value in (1, True, 1.0, 0, False)] == [True] * 3 + [False] * 2
    assert StateRule("mode", "is", "SETUP", "changeover").holds("SETUP")
    assert not StateRule("mode", "above", 3, "running").holds("SETUP")


def test_no_state_until_every_tag_a_rule_needs_was_read() -> None:
    assert machine_state(RULES, "idle", {"fault_code": 0}) is None
    # A rule that holds before the unread tag is reached names the state.
    assert machine_state(RULES, "idle", {"fault_code": 3}) == "down"


def test_counters_count_steps_resets_and_wraps() -> None:
    assert part_increment(None, 500, 65536) == 0  # a first reading is a base
    assert part_increment(100, 110, 65536) == 10
    assert part_increment(65_500, 24, 65536) == 60  # wrapped from the upper half
    assert part_increment(110, 3, 65536) == 3  # reset: counted since
    assert part_increment(65_500, 24, None) == 24  # no known range: a reset
    assert part_increment(7, 7, 65536) == 0
