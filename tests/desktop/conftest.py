"""Desktop test fixtures: a private data folder and settings file, and windows that must shut down
cleanly (a thread, timer or plotter left running fails the test)."""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

# pymeshlab's first import must happen on the main thread (a worker's first import corrupts the
# heap and the process aborts later); the app does it in desktop.dialogs.export_options.
import pymeshlab  # noqa: F401
import pytest

from engine.pointcloud import PointCloud
from engine.requests import GenerationRequest, PipelineStep


@pytest.fixture(scope="package", autouse=True)
def gui_thread_gc(qapp):
    """As in the app (desktop.app.create_app): cycles are collected on the GUI thread only, so
    a closed window's widgets and VTK objects are never destroyed by a worker thread."""
    from desktop.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector()
    yield collector
    collector.stop()
    gc.collect()


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "studio-home"
    home.mkdir()
    monkeypatch.setenv("POINTE_STUDIO_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture
def settings(studio_home: Path):
    from PySide6.QtCore import QSettings

    from desktop.settings import Settings

    return Settings(QSettings(str(studio_home / "settings.ini"), QSettings.Format.IniFormat))


def assert_shut_down(window) -> None:
    """After close(): no worker left, no running QThread, no active QTimer, the plotter closed."""
    from PySide6.QtCore import QThread, QTimer

    from desktop.workers import active_workers

    running = [t.objectName() or repr(t) for t in window.findChildren(QThread) if t.isRunning()]
    running += [w.name for w in active_workers()]
    active = [
        f"{t.objectName() or 'QTimer'} of {type(t.parent()).__name__}"
        for t in window.findChildren(QTimer)
        if t.isActive()
    ]
    assert not window.controller.busy, "a generation worker is still registered"
    assert not running, f"threads still running after close: {running}"
    assert not active, f"timers still active after close: {active}"
    if window.viewer is not None:
        assert window.viewer.closed and window.viewer.plotter._closed, "plotter left open"


def open_window(qtbot, studio_home: Path, settings, **kwargs):
    """A shown, active MainWindow with its 3D view, on the test's private profile."""
    from desktop.history import HistoryStore
    from desktop.main_window import MainWindow

    kwargs.setdefault("settings", settings)
    kwargs.setdefault("history", HistoryStore(studio_home / "history"))
    kwargs.setdefault("probe", False)
    window = MainWindow(**kwargs)
    window.show()
    window.activateWindow()  # window shortcuts (Ctrl+Enter, Esc, F12) need an active window
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.viewer is not None, timeout=60_000)
    return window


@pytest.fixture
def make_window(qtbot, studio_home, settings):
    """make_window(**kwargs) -> a shown MainWindow with its viewer; closed and checked after."""
    windows = []

    def make(**kwargs):
        window = open_window(qtbot, studio_home, settings, **kwargs)
        windows.append(window)
        qtbot.waitActive(window)
        qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
        return window

    yield make
    errors = []
    for window in windows:
        window.close()
        try:
            assert_shut_down(window)
        except AssertionError as exc:
            errors.append(str(exc))
        window.deleteLater()
    qtbot.wait(20)
    windows.clear()
    gc.collect()  # the windows' cycles go now, on this (the GUI) thread
    if errors:
        pytest.fail("; ".join(errors))


def scripted_run(
    n_stages: int = 2,
    steps: int = 6,
    delay: float = 0.02,
    fail_at: int | None = None,
    exc: BaseException | None = None,
):
    """A stand-in for engine.pipeline.run yielding real PipelineStep records (unit tests only)."""

    def run(request: GenerationRequest, *, should_cancel=None):
        from engine.errors import GenerationCancelled

        rng = np.random.default_rng(request.seed)
        count = 0
        coords = colors = None
        for stage_index in range(n_stages):
            n = 256 * (stage_index * 3 + 1)
            for step in range(1, steps + 2):
                if should_cancel is not None and should_cancel():
                    raise GenerationCancelled()
                time.sleep(delay)
                count += 1
                if fail_at is not None and count >= fail_at:
                    raise exc or RuntimeError("scripted failure")
                coords = (rng.normal(size=(n, 3)) * 0.4 / step).astype(np.float32)
                colors = rng.random((n, 3)).astype(np.float32)
                yield PipelineStep(
                    stage="base" if stage_index == 0 else "upsample",
                    stage_index=stage_index,
                    n_stages=n_stages,
                    step=min(step, steps),
                    total_steps=steps,
                    sigma=1.0 / step,
                    coords=coords,
                    colors=colors,
                    final=step > steps,
                )
        return PointCloud(coords, colors, {"prompt": request.prompt})

    return run


@pytest.fixture(scope="session")
def test_model() -> str:
    """The shipped built-in model; a broken one fails here, loudly, instead of being replaced."""
    from engine.embedded import load_embedded

    load_embedded(device="cpu")
    return "embedded"


@pytest.fixture
def pipeline_run(test_model):
    """The real engine.pipeline.run, with the model (and a few steps) chosen for test speed."""
    from engine.pipeline import run

    calls = {"yielded": [], "cancel_seen_at": None}

    def wrapped(request: GenerationRequest, *, should_cancel=None):
        request = replace(request, model=test_model, steps=request.steps or 6)
        pipeline = run(request, should_cancel=should_cancel)
        for step in pipeline:
            calls["yielded"].append(time.perf_counter())
            yield step
        return pipeline.result

    wrapped.calls = calls
    return wrapped
