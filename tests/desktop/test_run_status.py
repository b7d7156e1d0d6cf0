"""One place owns a run's status text (the progress panel), and it always says the current state."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from .conftest import scripted_run

pytestmark = pytest.mark.gui


def _generate(qtbot, window, prompt: str) -> None:
    editor = window.side.prompt.editor
    editor.clear()
    if prompt:
        qtbot.keyClicks(editor, prompt)
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_a_failure_is_not_left_standing_after_a_later_message(make_window, qtbot):
    window = make_window(run_fn=scripted_run(fail_at=1))
    with qtbot.waitSignal(window.generationFailed, timeout=30_000):
        _generate(qtbot, window, "a red cube")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    window.last_error_box.close()
    assert window.progress.text.startswith("Failed")
    window.side.prompt.editor.clear()
    window.generate()  # Generate with an empty prompt: refused before any run
    assert window.progress.text == "Ready"
    assert window.progress.detail.text().startswith("Type a prompt first")


def test_cancelling_then_cancelled_and_nothing_stale(make_window, qtbot):
    window = make_window(run_fn=scripted_run(steps=200, delay=0.02))
    steps = []
    window.controller.step.connect(lambda _g, s: steps.append(s))
    _generate(qtbot, window, "a red cube")
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=20_000)
    qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Escape)
    assert window.progress.text == "Cancelling…"
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    qtbot.waitUntil(lambda: window.progress.text == "Cancelled", timeout=5_000)
    assert "Cancelling" not in window.statusBar().currentMessage()


def test_done_is_said_once_and_the_panel_keeps_its_height(make_window, qtbot):
    window = make_window(run_fn=scripted_run(steps=2, delay=0.0))
    height = window.progress.height()
    dock = window.gallery_dock.height()
    with qtbot.waitSignal(window.generationFinished, timeout=30_000):
        _generate(qtbot, window, "a red cube")
    assert window.progress.text.startswith("Done in")
    assert "Done in" not in window.statusBar().currentMessage()
    assert "Saved to History" in window.statusBar().currentMessage()
    qtbot.wait(50)
    assert window.progress.height() == height and window.gallery_dock.height() == dock


def test_a_long_prompt_is_shortened_out_loud(make_window, qtbot):
    window = make_window()  # the real engine route: the built-in model
    window.side.steps.setValue(2)
    window.side.prompt.set_text(("a red cube on top of it " * 90).strip())
    shown = []
    window.controller.step.connect(lambda _g, _s: shown.append(window.statusBar().currentMessage()))
    with qtbot.waitSignal(window.generationFinished, timeout=120_000):
        window.generate()
    first = shown[0]
    assert "characters; only the first 1,000 were used" in first
    assert "Ignored words the built-in model does not know: on, top, it" in first
    assert "only the first 1,000" in window.log_panel.toPlainText()
