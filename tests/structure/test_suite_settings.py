"""How the suite itself runs: a test that outlasts its timeout fails where it ran.

pytest-timeout's "thread" method ends the whole process with os._exit(1). Under xdist
that process is a worker: the run then shows "[gwN] node down: Not properly terminated"
and "replacing crashed worker", the test's output and the stacks are lost, and on a
loaded machine (slow fixtures) it looks like a crash of whatever ran there. The "signal"
method fails the test with every thread's stack, and the worker goes on.
"""

from __future__ import annotations

import pytest


def test_a_timeout_fails_the_test_and_leaves_its_worker_running(
    pytestconfig: pytest.Config,
) -> None:
    assert pytestconfig.getini("timeout_method") == "signal"
    assert float(pytestconfig.getini("timeout")) > 0
