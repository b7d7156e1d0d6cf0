"""The viewer: one actor, updated in place, throttled renders, look options, closed guard."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def viewer(qtbot):
    from desktop.viewer import Viewer

    host = QMainWindow()
    v = Viewer(host)
    host.setCentralWidget(v.widget)
    host.resize(640, 480)
    host.show()
    qtbot.waitExposed(host)
    yield v
    v.close()
    assert v.closed and v.plotter._closed
    assert not v._render_timer.isActive() and not v.turntable_running
    host.close()
    host.deleteLater()


def _points(n, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)) * 0.3).astype(np.float32), rng.random((n, 3)).astype(np.float32)


def test_actor_created_once_then_updated_in_place(viewer, qtbot):
    viewer.show_points(*_points(1024, 0))
    actor, cloud = viewer.actor, viewer.cloud
    first = viewer.colors()
    coords, colors = _points(1024, 1)
    viewer.show_points(coords, colors)
    assert viewer.actor is actor and viewer.cloud is cloud
    np.testing.assert_allclose(np.asarray(viewer.cloud.points), coords)
    assert not np.array_equal(viewer.colors(), first)
    # a new size (base -> upsampled) keeps the same dataset and actor
    viewer.show_points(*_points(4096, 2))
    assert viewer.point_count == 4096 and viewer.actor is actor and viewer.cloud is cloud
    assert len(viewer.plotter.renderer.actors) == len(set(viewer.plotter.renderer.actors))
    frames = viewer.frames
    qtbot.waitUntil(lambda: viewer.frames > frames, timeout=2000)


def test_renders_are_throttled(viewer, qtbot):
    viewer.show_points(*_points(512, 0))
    qtbot.wait(100)
    start = viewer.frames
    for i in range(50):  # a burst of updates inside one frame interval becomes one render
        viewer.show_points(*_points(512, i))
    qtbot.wait(80)
    assert 1 <= viewer.frames - start <= 4


def test_look_options_and_views(viewer, qtbot):
    viewer.show_points(*_points(256, 0))
    viewer.set_color_mode("height")
    assert viewer.actor.mapper.GetArrayName() == "height"
    viewer.set_color_mode("single", "#ff0000")
    assert not viewer.actor.mapper.GetScalarVisibility()
    viewer.set_color_mode("rgb")
    assert viewer.actor.mapper.GetScalarVisibility()
    with pytest.raises(ValueError):
        viewer.set_color_mode("rainbow")
    viewer.set_point_size(9)
    assert viewer.actor.prop.point_size == 9
    viewer.set_edl(True)
    viewer.set_edl(False)
    viewer.set_grid(False)
    assert not viewer._grid_actor.GetVisibility()
    viewer.set_background("light")
    before = viewer.plotter.camera_position
    qtbot.keyClick(viewer.widget, Qt.Key.Key_5)  # top view
    assert viewer.plotter.camera_position != before
    qtbot.keyClick(viewer.widget, Qt.Key.Key_Q)  # pyvista's "q closes" binding is gone
    assert not viewer.closed
    viewer.set_turntable(True)
    cam = viewer.plotter.camera.GetPosition()
    qtbot.wait(150)
    assert viewer.plotter.camera.GetPosition() != cam
    viewer.set_turntable(False)


def test_screenshot_and_thumbnail(viewer, tmp_path):
    viewer.show_points(*_points(256, 0))
    viewer.flush()
    path = viewer.save_screenshot(tmp_path / "shot.png")
    assert path.stat().st_size > 1000
    assert viewer.thumbnail(64).shape == (64, 64, 3)


def test_calls_after_close_are_ignored(viewer):
    viewer.close()
    viewer.show_points(*_points(16, 0))
    viewer.set_edl(True)
    viewer.reset_view()
    assert viewer.image() is None
