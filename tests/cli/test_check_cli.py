"""`python main.py check FILE [--nozzle] [--json]`: agrees with trimesh, fails in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from cli import run_cli
from engine import export
from engine.pointcloud import Mesh, PointCloud

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "size_mm",
    "watertight",
    "volume_mm3",
    "parts",
    "overhang_fraction",
    "thin_wall_fraction",
    "bed_contact_mm2",
}


def check_json(capsys, *argv: str) -> dict:
    assert run_cli(["check", *argv, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # one JSON object, nothing else on stdout
    data = json.loads(out[0])
    assert set(data) >= KEYS
    return data


def box_mesh(lo=(0.0, 0.0, 0.0), hi=(20.0, 30.0, 40.0)) -> Mesh:
    b = trimesh.creation.box(extents=np.subtract(hi, lo))
    b.apply_translation(np.add(lo, hi) / 2)
    return Mesh(b.vertices, b.faces)


def test_box_json_has_the_exact_answers(tmp_path, capsys) -> None:
    path = export.save(box_mesh(), tmp_path / "box.stl")
    data = check_json(capsys, str(path))
    assert data["size_mm"] == pytest.approx([20, 30, 40])
    assert data["watertight"] is True and data["parts"] == 1
    assert data["volume_mm3"] == pytest.approx(24000, rel=1e-6)
    assert data["bed_contact_mm2"] == pytest.approx(600, rel=1e-6)
    assert data["overhang_fraction"] == 0 and data["thin_wall_fraction"] == 0
    assert data["warnings"] == []


def test_readable_output(tmp_path, capsys) -> None:
    path = export.save(box_mesh(), tmp_path / "box.obj")
    assert run_cli(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "size: 20.0 x 30.0 x 40.0 mm" in out and "watertight: yes" in out
    assert "no problems found" in out
    plate = export.save(box_mesh(hi=(20, 20, 0.3)), tmp_path / "plate.3mf")  # 800 / 824 thin
    assert run_cli(["check", str(plate), "--nozzle", "0.4"]) == 0
    assert "warning: 97% of the surface has walls thinner than the 0.4 mm nozzle" in (
        capsys.readouterr().out
    )
    assert run_cli(["check", str(plate), "--nozzle", "0.25"]) == 0
    assert "no problems found" in capsys.readouterr().out


@pytest.mark.parametrize("ext", [".ply", ".stl", ".obj", ".3mf", ".glb"])
def test_shared_corgi_mesh_agrees_with_trimesh(examples_dir, tmp_path, capsys, ext) -> None:
    src = examples_dir / "corgi.ply"  # a Point-E SDF mesh, about 1 unit across
    mesh = export.load(src)
    assert isinstance(mesh, Mesh)
    path = src
    if ext != ".ply":  # the same mesh at 80x size, in each format the check reads
        path = export.save(Mesh(mesh.verts * 80, mesh.faces, mesh.colors), tmp_path / f"c{ext}")
    data = check_json(capsys, str(path))
    tm = trimesh.load(path, force="mesh")
    size = np.asarray(tm.extents)
    if ext == ".glb":  # glTF is Y-up on disk; the check reads it back Z-up as the app does
        size = size[[0, 2, 1]]
    assert data["size_mm"] == pytest.approx(size.tolist(), rel=1e-5)
    assert data["watertight"] is bool(tm.is_watertight) is True
    assert data["volume_mm3"] == pytest.approx(abs(tm.volume), rel=1e-5)
    assert data["parts"] == tm.body_count == 1
    assert 0 < data["overhang_fraction"] < 0.5
    assert 0 <= data["thin_wall_fraction"] <= 1 and data["bed_contact_mm2"] >= 0


def test_point_clouds_and_junk_fail_in_one_line(examples_dir, tmp_path, capsys) -> None:
    cloud = export.save(PointCloud(np.random.default_rng(0).random((50, 3))), tmp_path / "p.ply")
    junk = tmp_path / "junk.stl"
    junk.write_bytes(b"this is not a mesh")
    cases = {
        str(cloud): "is a point cloud, not a mesh",
        str(examples_dir / "pc_corgi.npz"): "is a point cloud, not a mesh",
        str(tmp_path / "missing.stl"): "not found",
        str(junk): "junk.stl",
        str(tmp_path / "notes.txt"): "unknown file type",
    }
    (tmp_path / "notes.txt").write_text("hello")
    for path, words in cases.items():
        assert run_cli(["check", path, "--json"]) == 1, path
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
        assert "unexpected problem" not in lines[0]


@pytest.mark.parametrize("nozzle", ["0", "-1", "nan"])
def test_bad_nozzle_is_refused(tmp_path, capsys, nozzle) -> None:
    path = export.save(box_mesh(), tmp_path / "box.stl")
    assert run_cli(["check", str(path), f"--nozzle={nozzle}"]) == 1
    assert "--nozzle must be a positive width" in capsys.readouterr().err


def test_main_entry_point_prints_json(tmp_path) -> None:
    path = export.save(box_mesh(), tmp_path / "box.stl")
    res = subprocess.run(
        [sys.executable, "main.py", "check", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["volume_mm3"] == pytest.approx(24000, rel=1e-6)
