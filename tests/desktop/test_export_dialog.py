"""The Export dialog: CLI parity (formats, mesher, base, size, faces), defaults, preview, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.pointcloud import Mesh, PointCloud

pytestmark = pytest.mark.gui


def _ball(prompt: str = "a red ball", seed: int = 0, n: int = 3000) -> PointCloud:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, 3))
    v = 0.4 * v / np.linalg.norm(v, axis=1, keepdims=True)
    colors = np.tile([[0.8, 0.1, 0.1]], (n, 1))
    return PointCloud(v.astype(np.float32), colors, {"prompt": prompt, "seed": seed})


def _open(window, cloud: PointCloud | None = None):
    from desktop.dialogs.export_dialog import ExportDialog, run_export

    dialog = run_export(window, cloud or _ball())
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    assert window.dialogs["export"] is dialog  # closed with the window
    return dialog


def _export(qtbot, dialog, timeout: int = 120_000) -> tuple:
    with qtbot.waitSignal(dialog.done, timeout=timeout) as blocker:
        dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=10_000)
    return tuple(blocker.args)


def test_writes_a_flat_based_3mf_with_preview_and_print_check(
    make_window, qtbot, tmp_path, artifacts_dir
):
    from engine import export

    window = make_window()
    dialog = _open(window)
    dialog.form.set_file_type("3mf")
    dialog.form.grid_spin.setValue(64)  # the test's speed; the default is 128
    dialog.form.depth_spin.setValue(8.0)
    target = tmp_path / "ball.3mf"
    dialog.form.path_edit.setText(str(target))
    path, error = _export(qtbot, dialog)
    assert error == "" and Path(path) == target and target.exists()
    mesh = export.load(target)
    assert isinstance(mesh, Mesh)
    z = mesh.verts[:, 2]
    base = mesh.verts[z < z.min() + 1e-3]
    span = base[:, :2].max(axis=0) - base[:, :2].min(axis=0)
    assert len(base) > 20 and span.min() > 30.0, (len(base), span)  # an 8 mm cut of an 80 mm ball
    assert max(mesh.verts.max(axis=0) - mesh.verts.min(axis=0)) == pytest.approx(80.0, rel=0.02)
    text = dialog.check_label.text()
    for words in ("Size: 80.0", "Watertight: yes", "Parts: 1", "Overhangs", "Bed contact"):
        assert words in text, text
    assert dialog.preview_label.pixmap() is not None and not dialog.preview_label.pixmap().isNull()
    assert "Saved ball.3mf" in dialog.status_label.text()
    dialog.grab().save(str(artifacts_dir / "export_dialog.png"))
    dialog.close()

    again = _open(window)  # the settings of the last export come back
    assert again.form.file_type().id == "3mf" and again.form.grid_spin.value() == 64
    assert again.form.depth_spin.value() == 8.0 and again.form.base_check.isChecked()
    assert Path(again.form.path_edit.text()).parent == tmp_path


def test_default_stl_is_simplified_and_says_so(make_window, qtbot, tmp_path):
    from desktop.dialogs.export_options import DEFAULT_FACES
    from engine import export

    window = make_window()
    window.settings.q.setValue("export/type", "stl")
    dialog = _open(window)
    assert dialog.form.file_type().id == "stl" and dialog.form.simplify_check.isChecked()
    assert dialog.form.faces_spin.value() == DEFAULT_FACES
    dialog.form.grid_spin.setValue(64)  # ~62,000 triangles before simplifying
    dialog.form.path_edit.setText(str(tmp_path / "ball.stl"))
    assert _export(qtbot, dialog)[1] == ""
    faces = len(export.load(tmp_path / "ball.stl").faces)
    assert faces <= DEFAULT_FACES
    assert f"Simplified to {faces:,} triangles (from " in dialog.check_label.text()


def test_cancel_writes_nothing(make_window, qtbot, tmp_path):
    dialog = _open(make_window())
    dialog.form.set_file_type("stl")
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "never.stl"
    dialog.form.path_edit.setText(str(target))
    with qtbot.waitSignal(dialog.done, timeout=120_000) as blocker:
        dialog.export_button.click()
        assert dialog.busy() and dialog.cancel_button.isEnabled()
        dialog.cancel_button.click()
    assert blocker.args == [None, ""]
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=10_000)
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert "nothing was written" in dialog.status_label.text()
    assert dialog.export_button.isEnabled()


def test_named_after_prompt_and_seed_in_the_last_folder_with_the_last_type(
    make_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from desktop.export_prefs import default_folder

    window = make_window()
    dialog = _open(window, _ball("A red cube!", seed=0))
    path = Path(dialog.form.path_edit.text())
    assert path.parent == default_folder()  # first time: Documents (or home)
    assert path.name == f"a-red-cube-seed0{dialog.form.file_type().ext}"
    dialog.form.set_file_type("npz")
    assert dialog.form.path_edit.text().endswith("a-red-cube-seed0.npz")
    assert not dialog.form.mesh_box.isEnabled()  # point cloud: no mesh settings
    folder = tmp_path / "prints"
    folder.mkdir()
    dialog.form.path_edit.setText(str(folder / "a-red-cube-seed0.npz"))
    assert _export(qtbot, dialog, timeout=30_000)[1] == ""
    assert (folder / "a-red-cube-seed0.npz").exists()
    assert "points" in dialog.check_label.text()
    dialog.close()

    again = _open(window, _ball("Tall vase", seed=12))
    assert again.form.file_type().id == "npz"  # the last type chosen
    assert Path(again.form.path_edit.text()) == folder / "tall-vase-seed12.npz"
    seen = {}

    def fake_save(parent, title, start, filters):
        seen["start"] = start
        return str(folder / "renamed"), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    again.form.browse_button.click()
    assert Path(seen["start"]).parent == folder  # the save dialog opens in the last folder
    assert again.form.path_edit.text() == str(folder / "renamed.npz")


def test_sdf_mesher_greyed_out_without_its_model(make_window):
    dialog = _open(make_window())
    assert not dialog.form.sdf_radio.isEnabled() and dialog.form.grid_radio.isChecked()
    assert "sdf" in dialog.form.sdf_reason.text() and not dialog.form.sdf_reason.isHidden()
    assert dialog.form.options().method == "grid"


def test_file_export_opens_the_dialog_and_quit_closes_it(make_window):
    from desktop.dialogs.export_dialog import ExportDialog

    window = make_window()
    window.current_cloud = _ball()
    window.export()
    dialog = window.export_job
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    window.close()
    assert not dialog.isVisible()


def test_safe_file_names():
    from desktop.export_prefs import safe_stem

    assert safe_stem({"prompt": "A red cube", "seed": 0}) == "a-red-cube-seed0"
    assert safe_stem({"prompt": "Café / chair: *big*?", "seed": "7"}) == "cafe-chair-big-seed7"
    assert safe_stem({"prompt": "   "}) == "pointcloud"
    assert safe_stem({"seed": 3}) == "seed3"
    assert safe_stem({}) == "pointcloud"
    assert len(safe_stem({"prompt": "x" * 500, "seed": 1})) < 80


class _SphereSDF:
    """A stand-in for Point-E's SDF model: a ball of radius 0.4 (positive inside)."""

    def encode_point_clouds(self, clouds):
        return clouds

    def predict_sdf(self, x, encoded):
        import time

        time.sleep(0.002)  # a real model is slow enough to cancel mid-grid
        return 0.4 - x.norm(dim=1)  # (B, 3, M) -> (B, M)


def test_sdf_mesher_when_its_model_is_installed(make_window, qtbot, tmp_path, monkeypatch):
    import desktop.dialogs.export_dialog as export_dialog
    import engine.checkpoints
    from engine import export

    monkeypatch.setattr(export_dialog, "sdf_availability", lambda: (True, ""))
    monkeypatch.setattr(engine.checkpoints, "load_official_model", lambda name: _SphereSDF())
    dialog = _open(make_window())
    f = dialog.form
    assert f.sdf_radio.isEnabled() and f.sdf_reason.isHidden()
    f.sdf_radio.setChecked(True)
    f.grid_spin.setValue(48)
    f.set_file_type("stl")
    f.path_edit.setText(str(tmp_path / "sdf.stl"))
    assert f.options().method == "sdf"
    assert _export(qtbot, dialog)[1] == ""
    mesh = export.load(tmp_path / "sdf.stl")
    assert max(mesh.verts.max(axis=0) - mesh.verts.min(axis=0)) == pytest.approx(80.0, rel=0.02)

    f.path_edit.setText(str(tmp_path / "stopped.stl"))
    f.grid_spin.setValue(96)  # a new build (the settings changed), long enough to stop midway
    seen: list[str] = []
    with qtbot.waitSignal(dialog.done, timeout=60_000) as blocker:
        dialog.export_button.click()
        qtbot.waitUntil(lambda: "SDF grid" in dialog.status_label.text(), timeout=30_000)
        seen.append(dialog.status_label.text())
        dialog.cancel_button.click()
    assert blocker.args == [None, ""] and not (tmp_path / "stopped.stl").exists()
    assert "%" in seen[0]


def test_a_failed_write_is_explained_in_the_dialog(make_window, qtbot, tmp_path):
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("x")
    dialog = _open(make_window())
    dialog.form.set_file_type("npz")
    dialog.form.path_edit.setText(str(blocker_file / "ball.npz"))
    path, error = _export(qtbot, dialog, timeout=30_000)
    assert path is None and "Cannot write" in error
    assert "Could not export" in dialog.status_label.text()
    assert "Traceback" not in dialog.status_label.text()
    assert dialog.export_button.isEnabled()


def test_quitting_mid_build_stops_the_export_and_writes_nothing(make_window, tmp_path):
    from desktop.workers import active_workers

    window = make_window()
    dialog = _open(window)
    dialog.form.set_file_type("stl")
    (tmp_path / "out").mkdir()
    dialog.form.path_edit.setText(str(tmp_path / "out" / "ball.stl"))
    dialog.export_button.click()
    assert dialog.busy()
    window.close()  # cancels the build, waits for it, closes the dialog
    assert not active_workers() and not dialog.isVisible()
    assert list((tmp_path / "out").iterdir()) == []


def test_preview_then_export_reuses_the_mesh_and_asks_before_replacing(
    make_window, qtbot, tmp_path
):
    dialog = _open(make_window())
    f = dialog.form
    f.set_file_type("obj")
    f.grid_spin.setValue(48)
    target = tmp_path / "ball.obj"
    f.path_edit.setText(str(target))
    dialog.preview_button.click()
    qtbot.waitUntil(lambda: "Preview ready" in dialog.status_label.text(), timeout=60_000)
    assert not target.exists() and "Watertight" in dialog.check_label.text()
    built = dialog.prepared
    assert _export(qtbot, dialog)[1] == "" and target.exists()
    assert dialog.prepared is built  # written as previewed, not built again

    target.write_text("keep me")
    dialog.export_button.click()  # the file exists now: the first press only asks
    assert "already exists" in dialog.status_label.text()
    assert dialog.export_button.text() == "Replace" and not dialog.busy()
    assert target.read_text() == "keep me"
    assert _export(qtbot, dialog)[1] == ""  # Replace
    assert target.read_text() != "keep me" and dialog.export_button.text() == "Export"
