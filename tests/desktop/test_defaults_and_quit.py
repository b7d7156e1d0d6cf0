"""A fresh window makes what the CLI makes; quitting right after an export leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .conftest import scripted_run

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_window_equals_the_cli_for_the_same_prompt_and_seed(make_window, qtbot, tmp_path):
    """No run_fn: the window's own engine route, with a fresh profile's defaults."""
    window = make_window()
    side = window.side
    assert side.seed.value() == 0 and side.preset.currentData() == "official"
    assert side.settings_model().guidance is None, "guidance: the model's tuned value"
    editor = side.prompt.editor
    qtbot.keyClicks(editor, "a red cube")
    with qtbot.waitSignal(window.generationFinished, timeout=180_000):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    shown = window.current_cloud

    out = tmp_path / "cli.npz"
    env = dict(os.environ, POINTE_STUDIO_HOME=str(tmp_path / "cli-home"))
    res = subprocess.run(
        [sys.executable, "main.py", "generate", "--prompt", "a red cube", "--seed", "0",
         "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    from engine.export import load

    cli = load(out)
    assert len(cli) == len(shown) == 4096  # the built-in model and its upsampler
    np.testing.assert_allclose(shown.coords, cli.coords, atol=1e-5)
    np.testing.assert_allclose(shown.colors, cli.colors, atol=1e-5)
    assert shown.meta["guidance"] == [1.5, 0.0], "the tuned base guidance; unguided upsampler"


def test_export_then_quit_ends_every_thread_without_a_warning(make_window, qtbot, qtlog, tmp_path):
    from desktop.dialogs.export_dialog import run_export
    from desktop.workers import active_workers
    from engine.export import load

    window = make_window(run_fn=scripted_run(steps=2, delay=0.0))
    editor = window.side.prompt.editor
    qtbot.keyClicks(editor, "a red cube")
    with qtbot.waitSignal(window.generationFinished, timeout=60_000):
        qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    target = tmp_path / "cube.stl"
    window.export_job = run_export(window, window.current_cloud, target)
    assert active_workers(), "the export runs on a worker"
    window.close()  # at once: the export is still meshing
    assert not active_workers()
    assert load(target).faces.shape[0] > 0, "the export finished, whole, before quitting"
    warnings = [m.message for m in qtlog.records if m.type.name != "QtDebugMsg"]
    assert warnings == []
