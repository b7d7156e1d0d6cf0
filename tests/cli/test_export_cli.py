"""`python main.py export` and `render`: the acceptance path from a Point-E cloud to a print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from cli import run_cli
from engine import export

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["pc_corgi", "pc_cube_stack"])
def test_export_flat_based_80mm_3mf_and_render(examples_dir, artifacts_dir, name, capsys) -> None:
    out = artifacts_dir / f"{name}_80mm.3mf"
    argv = [
        "export",
        str(examples_dir / f"{name}.npz"),
        "--mesh",
        "--method",
        "grid",
        "--grid",
        "80",
    ]
    assert run_cli([*argv, "--size-mm", "80", "--flat-base", "--out", str(out)]) == 0
    assert "watertight: yes" in capsys.readouterr().out
    tm = trimesh.load(out, force="mesh")  # a third-party reader sees one closed solid
    assert tm.is_watertight and tm.is_winding_consistent and tm.body_count == 1
    assert tm.extents.max() == pytest.approx(80.0, abs=0.1)
    assert tm.bounds[0, 2] == pytest.approx(0.0, abs=1e-3)
    mesh = export.load(out)
    assert mesh.colors is not None and mesh.colors.std() > 0.01  # colours survived
    png = artifacts_dir / f"{name}_80mm.png"
    assert run_cli(["render", str(out), "--out", str(png), "--size", "400x400"]) == 0
    import imageio.v3 as iio

    img = iio.imread(png)
    assert img.shape[:2] == (400, 400) and np.ptp(img[..., :3].reshape(-1, 3), axis=0).max() > 50
    below = artifacts_dir / f"{name}_80mm_base.png"  # for a person: the flat base, from below
    assert (
        run_cli(
            ["render", str(out), "--out", str(below), "--elevation", "-70", "--size", "400x400"]
        )
        == 0
    )


def test_render_turntable_gif_of_a_point_cloud(examples_dir, artifacts_dir) -> None:
    import imageio.v3 as iio

    gif = artifacts_dir / "pc_corgi_turntable.gif"
    src = str(examples_dir / "pc_corgi.npz")
    assert run_cli(["render", src, "--out", str(gif), "--frames", "8", "--size", "200x160"]) == 0
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 8 and frames.shape[1:3] == (160, 200)
    assert np.abs(frames[0].astype(int) - frames[2].astype(int)).mean() > 1  # it turns


def test_render_turntable_mp4(examples_dir, tmp_path) -> None:
    import imageio.v3 as iio

    mp4 = tmp_path / "turntable.mp4"
    src = str(examples_dir / "pc_corgi.npz")
    assert run_cli(["render", src, "--out", str(mp4), "--frames", "6", "--size", "160x128"]) == 0
    assert mp4.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    frames = iio.imread(mp4, index=None)
    assert frames.shape[0] == 6 and frames.shape[1:3] == (128, 160)


def test_cloud_conversions_and_ascii(examples_dir, tmp_path) -> None:
    src = str(examples_dir / "pc_corgi.npz")
    for ext in (".ply", ".glb", ".npz"):
        assert run_cli(["export", src, "--out", str(tmp_path / f"c{ext}")]) == 0
        assert len(export.load(tmp_path / f"c{ext}")) == 4096
    assert run_cli(["export", src, "--ascii", "--out", str(tmp_path / "a.ply")]) == 0
    assert (tmp_path / "a.ply").read_bytes().startswith(b"ply\nformat ascii 1.0")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{ex}/pc_corgi.npz", "--out", "{tmp}/x.stl"], "add --mesh"),
        (["{ex}/pc_corgi.npz", "--size-mm", "80", "--out", "{tmp}/x.stl"], "add --mesh"),
        (["{ex}/corgi.jpg", "--out", "{tmp}/x.ply"], "unknown file type"),
        (["{tmp}/fake.ply", "--out", "{tmp}/x.ply"], "Not a PLY file"),
        (["{ex}/pc_corgi.npz", "--mesh", "--grid", "4", "--out", "{tmp}/x.stl"], "grid"),
        (["{ex}/pc_corgi.npz", "--out", "{tmp}/no/such/dir/x.ply"], "folder does not exist"),
        (["{tmp}/three.npz", "--mesh", "--out", "{tmp}/x.stl"], "only 3 points"),
    ],
)
def test_bad_input_is_one_clear_line(examples_dir, tmp_path, capsys, argv, message) -> None:
    (tmp_path / "fake.ply").write_bytes(b"GIF89a not really a ply")
    np.savez(tmp_path / "three.npz", coords=np.eye(3, dtype=np.float32))
    args = [a.format(ex=examples_dir, tmp=tmp_path) for a in argv]
    assert run_cli(["export", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_render_bad_output_type(examples_dir, tmp_path, capsys) -> None:
    assert (
        run_cli(["render", str(examples_dir / "pc_corgi.npz"), "--out", str(tmp_path / "x.bmp")])
        == 1
    )
    assert "use .png, .gif or .mp4" in capsys.readouterr().err


def test_main_entry_point_runs_export(examples_dir, tmp_path) -> None:
    out = tmp_path / "part.stl"
    cmd = [sys.executable, str(ROOT / "main.py"), "export", str(examples_dir / "pc_cube_stack.npz")]
    cmd += ["--mesh", "--method", "grid", "--grid", "48", "--size-mm", "50", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    tm = trimesh.load(out)
    assert tm.is_watertight and tm.extents.max() == pytest.approx(50.0, abs=0.1)
