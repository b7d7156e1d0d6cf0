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


def test_flush_renders_the_new_points_into_the_frame_at_once(viewer):
    """The History thumbnail is taken right after flush(), without returning to the event loop."""
    coords = np.zeros((64, 3), np.float32)
    viewer.set_point_size(40)
    frames = []
    for rgb in ((255, 0, 0), (0, 0, 255)):
        viewer.show_points(coords, np.tile(np.array(rgb, np.uint8), (64, 1)))
        viewer.flush()
        frames.append(viewer.image().astype(int))
    first, second = frames
    spot = (first[..., 0] > 200) & (first[..., 1] < 60) & (first[..., 2] < 60)
    assert spot.sum() > 400, "the red points are in the first frame"
    blue = (second[..., 2] > 200) & (second[..., 0] < 60)
    assert blue[spot].mean() > 0.9, "the second frame shows them blue, at once"


def test_when_drawn_waits_for_the_frame_that_shows_the_change(viewer, qtbot):
    """History thumbnails are read from the frame the window paints anyway, once it is drawn."""
    coords = np.zeros((64, 3), np.float32)
    viewer.set_point_size(40)
    viewer.show_points(coords, np.tile(np.array((255, 0, 0), np.uint8), (64, 1)))
    viewer.flush()
    spot = viewer.image()[..., 0] > 200
    seen = []
    viewer.show_points(coords, np.tile(np.array((0, 0, 255), np.uint8), (64, 1)))
    viewer.when_drawn(lambda: seen.append(viewer.image()))
    assert not seen, "not before the frame is drawn"
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    assert (seen[0][..., 2] > 200)[spot].mean() > 0.9, "the frame shows the new colours"
    viewer.when_drawn(lambda: seen.append(None))
    assert len(seen) == 2, "nothing pending: called at once"


def test_the_view_stays_fitted_to_the_data_space(viewer, qtbot):
    """Removing the start-up warm-up point and the hint must not re-fit the camera to what
    is left (the grid alone: focus on the floor, the top of every cloud cut off)."""
    camera = viewer.plotter.camera
    qtbot.waitUntil(lambda: viewer.frames > 0, timeout=10_000)  # the warm-up point is gone
    viewer.show_points(*_points(1024, 0))  # the first points remove the hint
    viewer.flush()
    seen = (camera.focal_point, camera.position)
    viewer.reset_view()  # the fit of Point-E's whole data box
    np.testing.assert_allclose(camera.focal_point, (0.0, 0.0, 0.0), atol=1e-9)
    np.testing.assert_allclose(seen[0], camera.focal_point, atol=1e-9)
    np.testing.assert_allclose(seen[1], camera.position, atol=1e-9)
