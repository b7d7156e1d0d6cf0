"""Generate ×N: N clouds denoise side by side; picking one upsamples it into the main view."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _tiny_model(window) -> None:
    """The tests' tiny random route (base 256 + upsampler 768) stands in for the official one."""
    from desktop.availability import Availability

    side = window.side
    side.set_availability(Availability(installed=frozenset({"tiny-random", "tiny-upsample"})))
    side.model.addItem("tiny random (tests)", "tiny-random")
    side.model.setCurrentIndex(side.model.count() - 1)
    side.steps.setValue(6)
    side.upsample.setChecked(True)
    assert side.upsample.isEnabled()


def test_four_variations_update_live_and_picking_one_upsamples_it(
    make_window, qtbot, artifacts_dir
):
    window = make_window()
    _tiny_model(window)
    grid = window.variations.grid
    seen = []  # every thumbnail's cloud after each step reached the window
    window.controller.step.connect(
        lambda _g, _s: seen.append([t.coords.copy() for t in grid.thumbs])
    )
    qtbot.keyClicks(window.side.prompt.editor, "a red cube")
    window.side.variations.setValue(4)
    qtbot.mouseClick(window.side.generate_many, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy and len(seen) > 3, timeout=120_000)
    assert window.variations.dock.isVisible() and len(grid.thumbs) == 4
    assert grid.updates == len(seen) >= 7  # 6 steps + the final record, live
    first, last = seen[0], seen[-1]
    assert all(not np.allclose(a, b) for a, b in zip(first, last, strict=True)), "they denoise"
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(last[i], last[j]), "four different clouds"
    assert [t.seed for t in grid.thumbs] == [0, 1, 2, 3]
    assert window.history.entries() == [], "candidates are not saved until chosen"
    window.composite_image().save(str(artifacts_dir / "variations_grid.png"))

    picked = grid.thumbs[2].coords.copy()
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(grid.thumbs[2], Qt.MouseButton.LeftButton)
    cloud = window.current_cloud
    assert len(cloud) == 1024 and cloud.meta["seed"] == 2
    np.testing.assert_array_equal(cloud.coords[:256], picked)  # the upsampler kept the choice
    assert blocker.args[0].meta["seed"] == 2
    window.composite_image().save(str(artifacts_dir / "variations_picked.png"))


def test_a_variation_saves_to_history_with_its_seed(make_window, qtbot):
    window = make_window()
    window.side.steps.setValue(3)  # the built-in model: no upsampler, so a pick is the result
    qtbot.keyClicks(window.side.prompt.editor, "a blue sphere")
    window.side.seed.setValue(10)
    window.side.variations.setValue(2)
    qtbot.mouseClick(window.side.generate_many, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy and window.variations.result is not None,
                    timeout=120_000)  # fmt: skip
    with qtbot.waitSignal(window.generationFinished, timeout=10_000):  # saved on a worker
        window.variations.save(1)
    entries = window.history.entries()
    assert len(entries) == 1 and entries[0].meta["seed"] == 11
    with qtbot.waitSignal(window.generationFinished, timeout=30_000):
        qtbot.mouseClick(window.variations.grid.thumbs[0], Qt.MouseButton.LeftButton)
    assert window.current_cloud.meta["seed"] == 10 and len(window.history.entries()) == 2
