"""The window offers each speed preset with its estimated time, and says how long is left."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _seconds(text: str) -> float:
    m = re.search(r"about (?:(\d+):(\d\d)|(\d+) s)", text)
    assert m, text
    return int(m[1]) * 60 + int(m[2]) if m[1] else int(m[3])


def test_presets_show_estimates_and_a_run_counts_down(make_window, qtbot):
    window = make_window(probe=True)
    combo = window.side.preset
    qtbot.waitUntil(lambda: "about" in combo.itemText(0), timeout=120_000)
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["fast"].startswith("Fast · about")
    assert _seconds(labels["fast"]) <= _seconds(labels["official"])
    details = []
    window.controller.step.connect(lambda _g, _s: details.append(window.progress.detail.text()))
    qtbot.keyClicks(window.side.prompt.editor, "a red cube")
    with qtbot.waitSignal(window.generationFinished, timeout=120_000):
        qtbot.keyClick(
            window.side.prompt.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    assert any("left" in d for d in details), details[:5]
