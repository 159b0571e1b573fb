"""A node's births, sequence numbers and deaths, and the calls of its Boolean metrics."""

from __future__ import annotations

from hub.sparkplug.sessions import CallEdges, NodeSessions, Verdict

NODE = ("plant-north", "press-node")
JAM = ("plant-north", "press-node", "press1", "Alarm/Jam")


def test_messages_in_order_are_taken_and_seq_wraps_after_255() -> None:
    sessions = NodeSessions()
    assert sessions.birth(NODE, bd_seq=3, seq=0) is Verdict.TAKE
    verdicts = [sessions.message(NODE, seq=seq % 256) for seq in range(1, 300)]
    assert set(verdicts) == {Verdict.TAKE}
    assert sessions.stamp(NODE) == (3, 299 % 256)


def test_a_gap_or_data_before_birth_asks_for_a_rebirth_until_the_node_is_born_again() -> None:
    sessions = NodeSessions()
    assert sessions.message(NODE, seq=5) is Verdict.REBIRTH  # never born
    sessions.birth(NODE, bd_seq=0, seq=0)
    assert sessions.message(NODE, seq=1) is Verdict.TAKE
    assert sessions.message(NODE, seq=3) is Verdict.REBIRTH  # 2 was lost
    assert sessions.message(NODE, seq=4) is Verdict.REBIRTH  # still not trusted
    assert sessions.birth(NODE, bd_seq=0, seq=0) is Verdict.TAKE
    assert sessions.message(NODE, seq=1) is Verdict.TAKE
    assert sessions.message(NODE, seq=1) is Verdict.DUPLICATE
    assert sessions.birth(NODE, bd_seq=0, seq=7) is Verdict.REBIRTH


def test_only_the_death_of_the_current_birth_takes_the_node_offline() -> None:
    sessions = NodeSessions()
    sessions.birth(NODE, bd_seq=4, seq=0)
    assert not sessions.death(NODE, bd_seq=3)  # a late Will of the connection before
    assert sessions.death(NODE, bd_seq=4)
    assert not sessions.death(NODE, bd_seq=4)
    assert sessions.message(NODE, seq=1) is Verdict.REBIRTH


def test_a_call_rises_once_per_edge_and_not_again_for_a_metric_that_stayed_true() -> None:
    edges = CallEdges()
    assert not edges.rising(JAM, False, stamp=(0, 1))
    assert edges.rising(JAM, True, stamp=(0, 2))
    assert not edges.rising(JAM, True, stamp=(0, 2))  # the same message again
    assert not edges.rising(JAM, True, stamp=(0, 0))  # a rebirth: it stayed true
    # A hub restarted with the values it kept: the rebirth it asks for raises nothing.
    restarted = CallEdges(edges.last)
    assert not restarted.rising(JAM, True, stamp=(1, 1))
    assert not restarted.rising(JAM, False, stamp=(1, 2))
    assert restarted.rising(JAM, True, stamp=(1, 3))
