"""The classical mesher, clean-up and print preparation on real Point-E clouds and simple shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from engine import export
from engine.errors import UserInputError
from engine.meshing import clean_mesh, mesh_point_cloud, prepare_for_print
from engine.pointcloud import Mesh, PointCloud


def _tm(mesh: Mesh) -> trimesh.Trimesh:
    return trimesh.Trimesh(mesh.verts, mesh.faces, process=False)


@pytest.fixture(scope="module", params=["pc_corgi.npz", "pc_cube_stack.npz"])
def meshed(request, examples_dir):
    pc = export.load(examples_dir / request.param)
    mesh, report = mesh_point_cloud(pc, grid=96)
    return request.param, pc, mesh, report


def test_real_clouds_give_one_closed_outward_mesh(meshed) -> None:
    _, pc, mesh, report = meshed
    tm = _tm(mesh)
    assert tm.is_watertight and tm.is_winding_consistent and tm.body_count == 1
    assert tm.volume > 0  # outward normals give a positive enclosed volume
    assert report.watertight and report.winding_consistent and report.method == "grid"
    assert report.n_faces == len(mesh.faces) and report.volume == pytest.approx(tm.volume)
    # the surface hugs the points: every point lies within a few voxels of it
    box = np.ptp(pc.coords, axis=0).max()
    _, dist, _ = trimesh.proximity.closest_point_naive(tm, pc.coords[::64])
    assert np.median(dist) < 0.03 * box


def test_vertex_colours_come_from_nearest_point(meshed) -> None:
    _, pc, mesh, _ = meshed
    rng = np.random.default_rng(0)
    for v in rng.choice(len(mesh.verts), 20, replace=False):
        nearest = np.argmin(((pc.coords - mesh.verts[v]) ** 2).sum(axis=1))
        np.testing.assert_allclose(mesh.colors[v], pc.colors[nearest])


@pytest.mark.parametrize("base", ["none", "cut", "rest"])
def test_print_size_and_base(meshed, base, artifacts_dir) -> None:
    name, _, mesh, _ = meshed
    printable, report = prepare_for_print(mesh, size_mm=80, base=base, base_depth_mm=2.0)
    tm = _tm(printable)
    assert tm.extents.max() == pytest.approx(80.0, abs=0.1)
    assert tm.bounds[0, 2] == pytest.approx(0.0, abs=1e-6)
    assert tm.is_watertight and tm.is_winding_consistent and report.watertight
    assert printable.meta["units"] == "mm" and printable.colors is not None
    if base == "cut":
        on_bed = np.abs(tm.triangles[:, :, 2]).max(axis=1) < 1e-6
        assert on_bed.sum() > 10 and np.all(tm.face_normals[on_bed, 2] < -0.999)
        assert report.base_area_mm2 == pytest.approx(tm.area_faces[on_bed].sum())
        assert report.base_area_mm2 > 50
        export.save(printable, artifacts_dir / f"{name[:-4]}_80mm_flat.3mf")


def test_fit_height() -> None:
    box = trimesh.creation.box(extents=(1.0, 2.0, 0.5))
    _, report = prepare_for_print(Mesh(box.vertices, box.faces), size_mm=30, fit="height")
    assert report.size_mm == pytest.approx((60.0, 120.0, 30.0))


def test_flat_base_through_a_hole_stays_closed() -> None:
    torus = trimesh.creation.torus(major_radius=0.4, minor_radius=0.1)
    printable, _ = prepare_for_print(
        Mesh(torus.vertices, torus.faces), size_mm=100, base="cut", base_depth_mm=10
    )
    tm = _tm(printable)
    # the cut of a flat-lying torus at mid-height is an annulus: a cap with a hole in it
    assert tm.extents[2] == pytest.approx(10.0, rel=0.02)
    assert tm.volume == pytest.approx(torus.volume * 100**3 / 2, rel=0.02)
    assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0


def test_thin_wall_warning() -> None:
    plate = trimesh.creation.box(extents=(1.0, 1.0, 0.002))
    _, report = prepare_for_print(Mesh(plate.vertices, plate.faces), size_mm=80, nozzle_mm=0.4)
    assert report.thin_fraction > 0.5 and any("nozzle" in w for w in report.warnings)
    cube = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    _, report = prepare_for_print(Mesh(cube.vertices, cube.faces), size_mm=80, nozzle_mm=0.4)
    assert report.thin_fraction < 0.01 and not report.warnings


def test_clean_mesh_drops_floaters_fills_holes_and_decimates() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.4)
    speck = trimesh.creation.icosphere(subdivisions=1, radius=0.02)
    speck.apply_translation([1.0, 0, 0])
    holed = trimesh.Trimesh(sphere.vertices, sphere.faces[5:])  # an open sphere
    holed.invert()  # and inside out
    both = trimesh.util.concatenate([holed, speck])
    colors = np.tile([0.2, 0.4, 0.6], (len(both.vertices), 1))
    mesh, report = clean_mesh(Mesh(both.vertices, both.faces, colors), target_faces=1000)
    tm = _tm(mesh)
    assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0
    assert report.components_removed == 1 and "filled holes" in report.notes
    assert 900 <= len(mesh.faces) <= 1000
    np.testing.assert_allclose(
        mesh.colors, 0.2 + np.array([0, 0.2, 0.4]) * np.ones_like(mesh.colors)
    )
    assert tm.volume == pytest.approx(sphere.volume, rel=0.03)


def test_smoothing_and_decimation_keep_meshing_closed(examples_dir) -> None:
    pc = export.load(examples_dir / "pc_cube_stack.npz")
    mesh, report = mesh_point_cloud(pc, grid=64, smooth_iterations=5, target_faces=4000)
    assert report.watertight and len(mesh.faces) <= 4000 and mesh.colors is not None


def _cloud(n: int, bad: bool = False) -> PointCloud:
    xyz = np.random.default_rng(0).normal(size=(n, 3))
    if bad:
        xyz[3, 1] = np.nan
    return PointCloud(xyz)


@pytest.mark.parametrize(
    ("pc", "kwargs", "match"),
    [
        (PointCloud(np.zeros((0, 3))), {}, "empty"),
        (_cloud(100, bad=True), {}, "NaN"),
        (_cloud(3), {}, "only 3 points"),
        (PointCloud(np.ones((50, 3))), {}, "same place"),
        (_cloud(100), {"grid": 8}, "grid"),
        (_cloud(100), {"method": "poisson"}, "method"),
        (_cloud(100), {"method": "sdf"}, "SDF model"),
    ],
)
def test_bad_clouds_get_clear_messages(pc, kwargs, match) -> None:
    with pytest.raises(UserInputError, match=match):
        mesh_point_cloud(pc, **kwargs)


def test_sparse_and_flat_clouds_still_close() -> None:
    rng = np.random.default_rng(1)
    flat = np.c_[rng.uniform(-0.5, 0.5, (400, 2)), np.zeros(400)]  # a sheet of points
    for xyz in (rng.normal(size=(20, 3)), flat):
        mesh, report = mesh_point_cloud(PointCloud(xyz), grid=48)
        assert report.watertight and _tm(mesh).body_count == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size_mm": 0}, "size"),
        ({"fit": "width"}, "fit"),
        ({"base": "glue"}, "base"),
        ({"base": "cut", "base_depth_mm": 60}, "base depth"),
        ({"nozzle_mm": 0}, "nozzle"),
    ],
)
def test_bad_print_settings(kwargs, match) -> None:
    box = trimesh.creation.box()
    with pytest.raises(UserInputError, match=match):
        prepare_for_print(Mesh(box.vertices, box.faces), **kwargs)


def test_mesher_does_not_care_about_units(examples_dir) -> None:
    pc = export.load(examples_dir / "pc_cube_stack.npz")
    small, _ = mesh_point_cloud(pc, grid=48)
    big, report = mesh_point_cloud(PointCloud(pc.coords * 100 + 7, pc.colors), grid=48)
    assert report.watertight and len(big.faces) == len(small.faces)
    np.testing.assert_allclose(big.verts, small.verts * 100 + 7, atol=1e-2)


def test_engine_export_and_meshing_never_import_gui_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys, engine.export, engine.meshing;"
        "bad = [m for m in ('pyvista', 'vtk', 'PySide6', 'desktop') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, done.stdout + done.stderr
