"""Point editing in the real window: rectangle-select, delete, undo/redo, floaters, re-upsample."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt

pytestmark = pytest.mark.gui


def _tiny_window(make_window, qtbot):
    """A window whose result is a 256-point base cloud from the tests' tiny random route."""
    from desktop.availability import Availability

    window = make_window()
    side = window.side
    side.set_availability(Availability(installed=frozenset({"tiny-random", "tiny-upsample"})))
    side.model.addItem("tiny random (tests)", "tiny-random")
    side.model.setCurrentIndex(side.model.count() - 1)
    side.steps.setValue(6)
    side.upsample.setChecked(False)  # edit the base, then re-upsample it
    qtbot.keyClicks(side.prompt.editor, "a red cube")
    with qtbot.waitSignal(window.generationFinished, timeout=120_000):
        qtbot.keyClick(side.prompt.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.viewer.point_count == 256
    return window


def _vtk_display_mask(viewer, coords: np.ndarray, rect: QRect) -> np.ndarray:
    """Independent of desktop.point_selection: VTK's own world -> display transform."""
    import vtk

    renderer = viewer.plotter.renderer
    height = viewer.plotter.render_window.GetSize()[1]
    c = vtk.vtkCoordinate()
    c.SetCoordinateSystemToWorld()
    inside = []
    for p in coords:
        c.SetValue(*map(float, p))
        x, y = c.GetComputedDoubleDisplayValue(renderer)
        y = height - y  # VTK counts from the bottom, Qt from the top
        inside.append(rect.left() <= x <= rect.right() + 1 and rect.top() <= y <= rect.bottom() + 1)
    return np.array(inside)


def _drag(qtbot, widget, start: QPoint, end: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(widget, pos=(start + end) / 2)
    qtbot.mouseMove(widget, pos=end)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def test_rectangle_delete_undo_and_re_upsample(make_window, qtbot, artifacts_dir):
    from engine.edit import farthest_point_resample

    window = _tiny_window(make_window, qtbot)
    viewer, bar = window.viewer, window.edit_bar
    viewer.standard_view(Qt.Key.Key_1)
    viewer.flush()
    before = window.current_cloud
    coords = before.coords.copy()
    w, h = viewer.widget.width(), viewer.widget.height()
    start, end = QPoint(w // 2 - w // 8, h // 4), QPoint(w // 2 + w // 8, h * 3 // 4)
    expected = _vtk_display_mask(viewer, coords, QRect(start, end))
    assert 0 < expected.sum() < len(coords), "the box catches some points, not all"

    qtbot.mouseClick(bar.select, Qt.MouseButton.LeftButton)
    assert bar.select.isChecked()
    _drag(qtbot, viewer.widget, start, end)
    np.testing.assert_array_equal(window.editing.selection, expected)
    window.composite_image().save(str(artifacts_dir / "edit_selection.png"))
    qtbot.mouseClick(bar.delete, Qt.MouseButton.LeftButton)
    kept = ~expected
    assert viewer.point_count == kept.sum()
    np.testing.assert_array_equal(window.current_cloud.coords, coords[kept])

    qtbot.keyClick(viewer.widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert viewer.point_count == len(coords)
    np.testing.assert_array_equal(window.current_cloud.coords, coords)
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(viewer.widget, Qt.Key.Key_Z, redo)
    np.testing.assert_array_equal(window.current_cloud.coords, coords[kept])

    edited = window.current_cloud
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(bar.reupsample, Qt.MouseButton.LeftButton)
    result = window.current_cloud
    assert len(result) == 1024  # tiny: 256 base + 768 new (official: 1,024 + 3,072)
    base, _, _ = farthest_point_resample(edited.coords, edited.colors, 256)
    np.testing.assert_array_equal(result.coords[:256], base)
    np.testing.assert_array_equal(result.coords[: kept.sum()], coords[kept])
    assert blocker.args[0].meta["edited_from"] is not None
    window.composite_image().save(str(artifacts_dir / "edit_reupsampled.png"))


def test_floaters_are_previewed_then_removed_and_saved_as_a_linked_entry(make_window, qtbot):
    window = _tiny_window(make_window, qtbot)
    editing, bar = window.editing, window.edit_bar
    n = len(window.current_cloud)
    bar.strength.setValue(10)  # strength 1.0: a clear handful of stray points
    shown = editing.preview.copy()
    assert 0 < shown.sum() < n and window.viewer.point_count == n, "preview only"
    red = window.viewer.colors()[shown]
    assert (red == [255, 38, 38]).all()
    qtbot.mouseClick(bar.remove, Qt.MouseButton.LeftButton)
    assert window.viewer.point_count == n - shown.sum()
    original = window.history.entries()[0]
    qtbot.mouseClick(bar.save, Qt.MouseButton.LeftButton)
    assert not bar.save.isEnabled(), "one Save per edited state, while it is being written"
    qtbot.waitUntil(lambda: window.gallery.count() == 2, timeout=10_000)  # saved on a worker
    entries = window.history.entries()
    assert len(entries) == 2
    saved = next(e for e in entries if e.folder != original.folder)
    assert saved.meta["edited_from"] == original.folder.name
    assert saved.meta["n_points"] == n - shown.sum()
    assert window.editing.source == saved.folder.name and not window.editing.edited
