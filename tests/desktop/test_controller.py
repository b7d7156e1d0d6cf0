"""Controller + worker: runs off the GUI thread, drops stale payloads, refuses a second run."""

from __future__ import annotations

import threading

import pytest

from desktop.state import Job
from desktop.workers import active_workers, shutdown_all
from engine.requests import GenerationRequest

from .conftest import scripted_run

pytestmark = pytest.mark.gui


@pytest.fixture
def controller(qtbot):
    from desktop.controller import GenerationController

    made = []

    def make(run_fn):
        ctl = GenerationController(run_fn)
        made.append(ctl)
        return ctl

    yield make
    assert shutdown_all(30_000)
    qtbot.waitUntil(lambda: all(not ctl.busy for ctl in made), timeout=5_000)
    assert not active_workers()


def _job(prompt: str) -> Job:
    return Job(request=GenerationRequest(prompt=prompt))


def test_run_streams_steps_off_the_gui_thread(controller, qtbot):
    threads = set()
    inner = scripted_run(n_stages=2, steps=3, delay=0.0)

    def run(request, *, should_cancel=None):
        threads.add(threading.get_ident())
        return (yield from inner(request, should_cancel=should_cancel))

    ctl = controller(run)
    steps, results = [], []
    ctl.step.connect(lambda gid, p: steps.append((gid, p)))
    ctl.succeeded.connect(lambda gid, cloud, secs: results.append((gid, cloud)))
    gen_id = ctl.start(_job("a cube"))
    qtbot.waitUntil(lambda: bool(results) and not ctl.busy, timeout=30_000)
    assert threading.get_ident() not in threads
    assert len(steps) == 8 and all(gid == gen_id for gid, _ in steps)
    assert steps[-1][1].final and len(results[0][1]) == 1024


def test_second_start_is_refused_while_running(controller, qtbot):
    ctl = controller(scripted_run(steps=50, delay=0.02))
    refusals = []
    ctl.refused.connect(refusals.append)
    first = ctl.start(_job("a"))
    assert ctl.start(_job("b")) is None
    assert refusals and "already running" in refusals[0]
    assert ctl.active_id == first
    ctl.cancel()
    assert ctl.start(_job("c")) is None  # still stopping
    assert "stopping" in refusals[-1].lower()
    qtbot.waitUntil(lambda: not ctl.busy, timeout=10_000)
    assert ctl.start(_job("d")) == first + 1


def test_cancel_drops_later_payloads_and_stops_within_a_step(controller, qtbot):
    ctl = controller(scripted_run(steps=100, delay=0.03))
    steps, cancelled = [], []
    ctl.step.connect(lambda gid, p: steps.append(p))
    ctl.cancelled.connect(cancelled.append)
    gen_id = ctl.start(_job("a"))
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=20_000)
    worker = ctl._worker
    ctl.cancel()
    seen = len(steps)
    qtbot.waitUntil(lambda: not ctl.busy, timeout=5_000)
    assert cancelled == [gen_id]
    assert len(steps) == seen  # nothing from the cancelled run reaches the GUI
    assert worker.abort_requested


def test_failures_carry_the_traceback(controller, qtbot):
    ctl = controller(scripted_run(fail_at=2, exc=RuntimeError("boom")))
    failures = []
    ctl.failed.connect(lambda gid, exc, tb: failures.append((exc, tb)))
    ctl.start(_job("a"))
    qtbot.waitUntil(lambda: bool(failures) and not ctl.busy, timeout=20_000)
    exc, tb = failures[0]
    assert isinstance(exc, RuntimeError)
    assert "RuntimeError: boom" in tb and "conftest.py" in tb  # where it was raised
