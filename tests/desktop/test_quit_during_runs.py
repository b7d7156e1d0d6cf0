"""Ctrl+Q while something runs in the background: the window closes, every worker is gone and
nothing in the log or Qt's messages says "RuntimeError", "already deleted" or "Traceback".

As in the app (desktop.app.run_app returns after app.exec()), the window is then deleted with
its children, and the signals still queued from finished worker threads are delivered."""

from __future__ import annotations

import gc
import logging

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from engine.pointcloud import PointCloud
from engine.requests import PipelineStep

from .conftest import assert_shut_down, open_window, scripted_run

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
BAD = ("RuntimeError", "already deleted", "Traceback")


@pytest.fixture
def app_window(qtbot, studio_home, settings):
    """app_window(**kwargs) -> a shown MainWindow (as app_window), deleted by the test."""
    made = []

    def make(**kwargs):
        window = open_window(qtbot, studio_home, settings, **kwargs)
        made.append(window)
        return window

    yield make
    for window in made:  # a test that failed before deleting its window
        try:
            window.close()
            window.deleteLater()
        except RuntimeError:  # already deleted by the test
            pass
    qtbot.wait(20)


@pytest.fixture
def clean_log(caplog, qtlog, capfd):
    """Call after quitting: what the log, Qt and stderr said must hold no crash."""
    caplog.set_level(logging.DEBUG)

    def check() -> None:
        said = [caplog.text, *(record.message for record in qtlog.records), capfd.readouterr().err]
        for text in said:
            for bad in BAD:
                assert bad not in text, f"{bad!r} after quitting:\n{text}"

    return check


def _quit(qtbot, window) -> None:
    """Ctrl+Q as a person presses it (QKeySequence.Quit, bound in desktop/menus.py)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_Q, CTRL)


def _assert_quit(qtbot, window, clean_log) -> None:
    from desktop.workers import active_workers

    assert window.closing and not window.isVisible(), "Ctrl+Q did not close the window"
    assert active_workers() == set(), [w.name for w in active_workers()]
    assert_shut_down(window)
    # the app returns from app.exec() and the window goes, children and all; signals queued
    # by the worker threads before they ended are delivered afterwards
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    gc.collect()
    qtbot.wait(200)
    assert active_workers() == set()
    clean_log()


def test_quit_during_a_generation(app_window, qtbot, clean_log):
    window = app_window(run_fn=scripted_run(steps=200, delay=0.02))
    steps = []
    window.controller.step.connect(lambda _gid, payload: steps.append(payload))
    window.side.prompt.set_text("a red chair")
    qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=10_000)
    assert window.controller.busy
    _quit(qtbot, window)
    _assert_quit(qtbot, window, clean_log)


def picture_only_run(steps: int = 200, delay: float = 0.02):
    """A stand-in for a Text → Image → 3D run that draws only the picture."""

    def run(request, *, should_cancel=None):
        from PIL import Image

        from engine.errors import GenerationCancelled

        empty = np.zeros((0, 3), np.float32)
        for step in range(1, steps + 2):
            if should_cancel is not None and should_cancel():
                raise GenerationCancelled()
            import time

            time.sleep(delay)
            last = step > steps
            yield PipelineStep(
                stage="image",
                stage_index=0,
                n_stages=3,
                step=min(step, steps),
                total_steps=steps,
                sigma=0.0 if last else 1.0 / step,
                coords=empty,
                colors=empty,
                final=last,
                image=Image.new("RGB", (64, 64), (200, 30, 30)) if last else None,
            )
        return None

    return run


def test_quit_while_drawing_a_picture(app_window, qtbot, clean_log):
    window = app_window(run_fn=picture_only_run())
    steps = []
    window.controller.step.connect(lambda _gid, payload: steps.append(payload))
    side = window.side
    side.set_mode("text-image")
    side.prompt.set_text("a red chair")
    job = side.build_job(picture_only=True)
    assert job.picture_only
    assert window.start_job(job)  # past the missing-model check: the run is scripted
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=10_000)
    _quit(qtbot, window)
    _assert_quit(qtbot, window, clean_log)


@pytest.mark.qt_no_exception_capture  # a slot's exception goes to stderr, checked below
def test_quit_during_an_export(app_window, qtbot, clean_log, tmp_path):
    from desktop.dialogs.export_dialog import run_export

    window = app_window()
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(4096, 3)).astype(np.float32) * 0.3
    cloud = PointCloud(coords, rng.random((4096, 3)).astype(np.float32), {"prompt": "ball"})
    path = tmp_path / "ball.stl"
    job = run_export(window, cloud, path)
    _quit(qtbot, window)
    _assert_quit(qtbot, window, clean_log)
    assert path.is_file(), "quitting waits for an export asked for by path"
    del job


def test_quit_during_a_model_download(app_window, qtbot, clean_log, tmp_path, monkeypatch):
    from desktop.dialogs.models_dialog import ModelsDialog
    from engine.checkpoints import ModelStore, all_entries
    from engine.checkpoints.download import Downloader
    from tests.ckpt_testing import (
        FileServer,
        ServerState,
        all_tiny_overrides,
        pt_bytes,
        tiny_state_dict,
    )

    monkeypatch.delenv("POINTE_MIRROR_URL", raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # never the internet
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1")
    state = ServerState(files={"/m/sdf.pt": pt_bytes(tiny_state_dict("sdf"))}, throttle=0.3)
    with FileServer(state) as server:
        store = ModelStore(
            tmp_path / "store",
            overrides=all_tiny_overrides(),
            downloader=Downloader(tmp_path / "store" / ".partial", chunk_size=8192, backoff=0.01),
        )
        store.settings.extra_mirrors = [server.url + "/m/"]
        store.settings.mirrors = {
            f.filename: [server.url + "/m/"] for e in all_entries() for f in e.files
        }
        window = app_window()
        dialog = ModelsDialog(store, parent=window)
        window.dialogs["models"] = dialog  # as open_models keeps it, so closeEvent closes it
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.download(["sdf"])
        qtbot.waitUntil(lambda: dialog.bar("sdf").value() > 0, timeout=10_000)
        assert dialog.busy
        _quit(qtbot, window)
        assert not dialog.isVisible() and not dialog.busy
        _assert_quit(qtbot, window, clean_log)


def test_quit_during_the_background_probe(app_window, qtbot, clean_log, monkeypatch):
    import time

    from desktop import availability

    real = availability.probe_installed

    def slow_probe_installed(*args, **kwargs):  # a slow disk: the probe is still running
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(availability, "probe_installed", slow_probe_installed)
    window = app_window(probe=True)
    qtbot.waitUntil(lambda: window._probe is not None, timeout=10_000)
    assert window._probe.is_running()
    _quit(qtbot, window)
    _assert_quit(qtbot, window, clean_log)
