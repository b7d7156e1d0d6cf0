"""run_export with a path: clouds via engine.export, printable meshes built off the GUI thread."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pointcloud import Mesh, PointCloud

pytestmark = pytest.mark.gui


def _sphere(n: int = 3000) -> PointCloud:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, 3))
    v = 0.4 * v / np.linalg.norm(v, axis=1, keepdims=True)
    return PointCloud(v.astype(np.float32), np.tile([[0.8, 0.1, 0.1]], (n, 1)))


def test_export_point_cloud_and_printable_mesh(make_window, qtbot, tmp_path):
    from desktop.dialogs.export_dialog import run_export
    from desktop.dialogs.export_options import DEFAULT_FACES
    from engine import export

    window = make_window()
    cloud = _sphere()
    job = run_export(window, cloud, tmp_path / "ball.ply")
    with qtbot.waitSignal(job.done, timeout=60_000) as blocker:
        pass
    assert blocker.args[1] == ""
    back = export.load(tmp_path / "ball.ply")
    assert isinstance(back, PointCloud) and len(back) == len(cloud)

    job = run_export(window, cloud, tmp_path / "ball.stl")
    with qtbot.waitSignal(job.done, timeout=120_000) as blocker:
        pass
    assert blocker.args[1] == "", blocker.args[1]
    mesh = export.load(tmp_path / "ball.stl")
    assert isinstance(mesh, Mesh) and len(mesh.faces) > 100
    extent = mesh.verts.max(axis=0) - mesh.verts.min(axis=0)
    assert extent.max() == pytest.approx(80.0, rel=0.05)  # scaled to 80 mm for printing
    assert len(mesh.faces) <= DEFAULT_FACES  # simplified for printing by default
    assert np.sum(mesh.verts[:, 2] < mesh.verts[:, 2].min() + 1e-3) > 20  # a flat base


def test_export_without_a_result_says_so(make_window):
    window = make_window()
    window.export()
    assert "Nothing to export" in window.statusBar().currentMessage()
