"""engine.meshing.printcheck on made-up meshes whose answers are known exactly."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import trimesh

from engine.meshing.printcheck import PrintCheck, check_print
from engine.pointcloud import Mesh


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> trimesh.Trimesh:
    lo_, hi_ = np.asarray(lo, float), np.asarray(hi, float)
    b = trimesh.creation.box(extents=hi_ - lo_)
    b.apply_translation((lo_ + hi_) / 2)
    return b


def pyramid(half: float, height: float, *, upside_down: bool) -> trimesh.Trimesh:
    """Square pyramid; upside down it stands on its apex at z = 0 with the base on top."""
    a = half
    base_z, apex_z = (height, 0.0) if upside_down else (0.0, height)
    verts = [[-a, -a, base_z], [a, -a, base_z], [a, a, base_z], [-a, a, base_z], [0, 0, apex_z]]
    faces = [[0, 2, 1], [0, 3, 2], [0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]]
    tm = trimesh.Trimesh(verts, faces, process=True)
    trimesh.repair.fix_normals(tm)
    assert tm.is_watertight and tm.volume > 0
    return tm


def test_box_20x30x40_exact_numbers() -> None:
    res = check_print(box((0, 0, 0), (20, 30, 40)))
    assert isinstance(res, PrintCheck)
    assert res.size_mm == pytest.approx((20, 30, 40))
    assert res.watertight and res.parts == 1
    assert res.volume_mm3 == pytest.approx(24000)
    assert res.bed_contact_mm2 == pytest.approx(600)
    assert res.overhang_fraction == 0 and res.thin_wall_fraction == 0
    assert res.warnings() == ()
    assert res.summary()[0] == "size: 20.0 x 30.0 x 40.0 mm"
    assert not res.thin_wall_sampled and res.thin_wall_faces_tested == 12


def test_engine_mesh_with_stl_style_corners_is_merged_first() -> None:
    tm = box((5, -3, 2), (25, 27, 42))
    tris = tm.triangles.reshape(-1, 3)  # every corner stored separately, as STL does
    mesh = Mesh(tris, np.arange(len(tris)).reshape(-1, 3))
    res = check_print(mesh)
    assert res.watertight and res.parts == 1
    assert res.volume_mm3 == pytest.approx(24000, rel=1e-6)
    assert res.bed_contact_mm2 == pytest.approx(600, rel=1e-6)  # the bed is the lowest z (2)


def test_inside_out_box_is_checked_right_way_out() -> None:
    tm = box((0, 0, 0), (20, 30, 40))
    tm.invert()
    res = check_print(tm)
    assert res.volume_mm3 == pytest.approx(24000)
    assert res.overhang_fraction == 0 and res.thin_wall_fraction == 0
    assert res.bed_contact_mm2 == pytest.approx(600)


def test_two_boxes_floating_shelf_parts_and_overhang() -> None:
    ground = box((0, 0, 0), (10, 10, 10))  # area 600, its bottom on the bed
    shelf = box((20, 0, 20), (30, 10, 22))  # area 280; its 100 mm² bottom hangs in the air
    res = check_print(trimesh.util.concatenate([ground, shelf]))
    assert res.parts == 2 and res.watertight
    assert res.volume_mm3 == pytest.approx(1000 + 200)
    assert res.overhang_fraction == pytest.approx(100 / 880)
    assert res.bed_contact_mm2 == pytest.approx(100)
    warnings = res.warnings()
    assert "2 separate parts: the slicer will print them as loose pieces" in warnings
    assert "11% of the surface overhangs more than 45°: add supports" in warnings


def test_open_box_is_not_watertight_and_has_no_volume() -> None:
    tm = box((0, 0, 0), (20, 30, 40))
    tm.update_faces(tm.face_normals[:, 2] < 0.5)  # take the lid off
    res = check_print(tm)
    assert not res.watertight and math.isnan(res.volume_mm3)
    assert res.parts == 1
    assert res.bed_contact_mm2 == pytest.approx(600)
    assert any(w.startswith("not watertight:") for w in res.warnings())
    assert "volume: unknown (the mesh is not watertight)" in res.summary()
    data = res.as_dict()
    assert data["volume_mm3"] is None and data["watertight"] is False
    json.dumps(data, allow_nan=False)  # valid JSON: no NaN


def test_upside_down_pyramid_overhang_share() -> None:
    a, h = 20.0, 10.0  # faces 63.4° from vertical: all four sides overhang
    res = check_print(pyramid(a, h, upside_down=True))
    side = 0.5 * (2 * a) * math.hypot(a, h)
    assert res.overhang_fraction == pytest.approx(4 * side / (4 * side + (2 * a) ** 2))
    assert res.bed_contact_mm2 == 0  # it stands on its tip
    assert res.volume_mm3 == pytest.approx((2 * a) ** 2 * h / 3)
    assert any(w.startswith("nothing lies flat on the bed") for w in res.warnings())


def test_exactly_45_degrees_is_not_an_overhang() -> None:
    assert check_print(pyramid(10.0, 10.0, upside_down=True)).overhang_fraction == 0
    upright = check_print(pyramid(10.0, 3.0, upside_down=False))
    assert upright.overhang_fraction == 0 and upright.bed_contact_mm2 == pytest.approx(400)


def test_thin_plate_against_the_nozzle_and_a_thick_cube() -> None:
    plate = box((0, 0, 0), (20, 20, 0.2))  # top + bottom 800 mm², rim 16 mm²
    res = check_print(plate, nozzle_mm=0.4)
    assert res.thin_wall_fraction == pytest.approx(800 / 816)
    assert any("thinner than the 0.4 mm nozzle" in w for w in res.warnings())
    assert check_print(plate, nozzle_mm=0.1).thin_wall_fraction == 0
    assert check_print(box((0, 0, 0), (20, 20, 20)), nozzle_mm=0.4).thin_wall_fraction == 0


def test_thin_wall_sample_is_deterministic_and_close_to_the_exact_share() -> None:
    plate = box((0, 0, 0), (20, 20, 0.2))
    v, f = plate.vertices, plate.faces
    for _ in range(5):
        v, f = trimesh.remesh.subdivide(v, f)
    fine = trimesh.Trimesh(v, f)  # 12288 faces, the same solid
    exact = check_print(fine, max_rays=20000)
    assert not exact.thin_wall_sampled
    assert exact.thin_wall_fraction == pytest.approx(800 / 816)
    a = check_print(fine, max_rays=1000, seed=3)
    b = check_print(fine, max_rays=1000, seed=3)
    assert a.thin_wall_sampled and a.thin_wall_faces_tested <= 1000
    assert a == b
    assert a.thin_wall_fraction == pytest.approx(800 / 816, abs=0.03)
    assert "estimated from" in a.summary()[5]


def test_big_mesh_is_checked_in_seconds() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=7, radius=40.0)  # 327,680 faces
    start = time.perf_counter()
    res = check_print(sphere)
    seconds = time.perf_counter() - start
    assert res.faces == 327680 and res.thin_wall_sampled
    assert res.watertight and res.parts == 1 and res.thin_wall_fraction == 0
    assert res.volume_mm3 == pytest.approx(4 / 3 * math.pi * 40**3, rel=1e-3)
    assert seconds < 15  # about 1.5 s alone; generous for a shared machine


@pytest.mark.parametrize("nozzle", [0, -0.4, float("nan"), float("inf")])
def test_bad_nozzle_names_the_argument(nozzle: float) -> None:
    with pytest.raises(ValueError, match="nozzle_mm"):
        check_print(box((0, 0, 0), (1, 1, 1)), nozzle_mm=nozzle)


def test_bad_meshes_are_refused_up_front() -> None:
    empty = Mesh(np.zeros((3, 3)), np.zeros((0, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="mesh is empty"):
        check_print(empty)
    with pytest.raises(ValueError, match="NaN"):
        check_print(Mesh(np.full((3, 3), np.nan), [[0, 1, 2]]))
    with pytest.raises(TypeError, match="mesh must be"):
        check_print(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="max_rays"):
        check_print(box((0, 0, 0), (1, 1, 1)), max_rays=0)


def first_hit_distances(tm: trimesh.Trimesh) -> np.ndarray:
    """Reference: distance from each face centroid, along the inverted normal, to the nearest
    other triangle (inf if none), by testing every triangle: slow, plain, obviously right."""
    tris = tm.triangles
    v0, e1, e2 = tris[:, 0], tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]  # (T, 3)
    origins, dirs = tris.mean(axis=1), -tm.face_normals
    out = np.full(len(tris), np.inf)
    for lo in range(0, len(tris), 64):  # 64 rays against every triangle at once
        o, d = origins[lo : lo + 64, None], dirs[lo : lo + 64, None]  # (R, 1, 3)
        p = np.cross(d, e2)  # (R, T, 3)
        det = np.einsum("tj,rtj->rt", e1, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / det
            s = o - v0
            u = np.einsum("rtj,rtj->rt", s, p) * inv
            q = np.cross(s, e1)
            v = np.einsum("rtj,rtj->rt", np.broadcast_to(d, q.shape), q) * inv
            t = np.einsum("tj,rtj->rt", e2, q) * inv
        ok = (np.abs(det) > 1e-15) & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9)
        rows = np.arange(len(ok))
        ok[rows, lo + rows] = False  # not the face the ray starts on
        out[lo : lo + 64] = np.where(ok, t, np.inf).min(axis=1)
    return out


def test_thin_walls_agree_with_a_brute_force_ray_test(examples_dir) -> None:
    from engine import export
    from engine.meshing.flatbase import cut_and_cap
    from engine.meshing.printcheck import thin_wall_share

    corgi = export.load(examples_dir / "corgi.ply")
    verts = corgi.verts.astype(np.float64) * 80  # about 80 mm long
    verts, faces = cut_and_cap(verts, corgi.faces, float(verts[:, 2].min()) + 8)
    tm = trimesh.Trimesh(verts, faces, process=True)  # long cap triangles beside small ones
    dist = first_hit_distances(tm)
    area = tm.area_faces
    for nozzle in (0.4, 2.0, 6.0):
        share, tested, sampled = thin_wall_share(tm, nozzle, max_rays=len(tm.faces))
        assert tested == np.count_nonzero(area > 0) and not sampled
        expected = area[dist < nozzle].sum() / area.sum()
        assert share == pytest.approx(expected, abs=1e-9), nozzle
    assert 0 < area[dist < 6.0].sum() / area.sum() < 1  # the nozzles span thin and thick
