"""Round trips of every export format, and Point-E's exact PLY byte layout."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import trimesh

from engine import export
from engine.export.ply import colors_to_u8, decode_ply, encode_ply
from engine.pointcloud import Mesh, PointCloud


@pytest.fixture
def cloud() -> PointCloud:
    rng = np.random.default_rng(0)
    return PointCloud(rng.uniform(-0.5, 0.5, (500, 3)), rng.integers(0, 256, (500, 3)) / 255.0)


@pytest.fixture
def mesh() -> Mesh:
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.4)
    rng = np.random.default_rng(1)
    return Mesh(sphere.vertices, sphere.faces, rng.uniform(0, 1, (len(sphere.vertices), 3)))


def test_ply_bytes_match_pointe_layout() -> None:
    coords = np.array([[0.0, 1.0, 2.0], [-1.5, 0.25, 3.0]], dtype=np.float32)
    colors = np.array([[0.0, 0.5, 1.0], [0.2, 0.4, 0.6]], dtype=np.float32)
    faces = np.array([[0, 1, 1]])
    data = encode_ply(coords, colors, faces)
    header = (
        b"ply\nformat binary_little_endian 1.0\nelement vertex 2\n"
        b"property float x\nproperty float y\nproperty float z\n"
        b"property uchar red\nproperty uchar green\nproperty uchar blue\n"
        b"element face 1\nproperty list uchar int vertex_index\nend_header\n"
    )
    rgb = [round(c * 255.499) for c in colors.ravel().tolist()]  # Python round is half-to-even
    body = struct.pack("<3f3B", *coords[0], *rgb[:3]) + struct.pack("<3f3B", *coords[1], *rgb[3:])
    body += struct.pack("<B3I", 3, 0, 1, 1)
    assert data == header + body


def test_ply_colour_rounding_is_pointe_s() -> None:
    c = np.array([0.0, 1.0, 0.5, 0.998, 1 / 255, 254.5 / 255.499], dtype=np.float32)
    expected = np.round(c.astype(np.float64) * 255.499).astype(np.uint8)
    assert colors_to_u8(c).tolist() == expected.tolist()
    assert colors_to_u8(np.array([1.2, -0.1])).tolist() == [255, 0]


def test_real_pointe_ply_reencodes_byte_identically(examples_dir) -> None:
    original = (examples_dir / "corgi.ply").read_bytes()
    coords, colors, faces = decode_ply(original)
    assert coords.shape == (1585, 3) and faces.shape == (3170, 3)
    assert encode_ply(coords, colors, faces) == original


def test_pointe_npz_layout_round_trip(examples_dir, tmp_path) -> None:
    src = np.load(examples_dir / "pc_corgi.npz")
    pc = export.load(examples_dir / "pc_corgi.npz")
    assert isinstance(pc, PointCloud) and len(pc) == 4096
    out = export.save(pc, tmp_path / "corgi.npz")
    again = np.load(out, allow_pickle=False)
    assert sorted(again.files) == ["B", "G", "R", "coords"]
    for key in ("coords", "R", "G", "B"):
        assert again[key].dtype == np.float32
        np.testing.assert_array_equal(again[key], src[key])


@pytest.mark.parametrize("ext", [".ply", ".npz", ".glb"])
def test_point_cloud_round_trip(cloud, tmp_path, ext) -> None:
    back = export.load(export.save(cloud, tmp_path / f"pc{ext}"))
    assert isinstance(back, PointCloud) and len(back) == len(cloud)
    np.testing.assert_allclose(back.coords, cloud.coords, atol=1e-6)
    np.testing.assert_allclose(back.colors, cloud.colors, atol=1 / 255 + 1e-6)


def test_ascii_ply_round_trip(cloud, mesh, tmp_path) -> None:
    path = export.save(cloud, tmp_path / "a.ply", ascii=True)
    assert path.read_bytes().startswith(b"ply\nformat ascii 1.0\n")
    back = export.load(path)
    np.testing.assert_allclose(back.coords, cloud.coords, atol=1e-6)
    np.testing.assert_allclose(back.colors, cloud.colors, atol=1 / 255 + 1e-6)
    back = export.load(export.save(mesh, tmp_path / "m.ply", ascii=True))
    np.testing.assert_array_equal(back.faces, mesh.faces)


def test_ply_reader_big_endian_double_and_quads(tmp_path) -> None:
    header = (
        b"ply\nformat binary_big_endian 1.0\ncomment made by hand\nelement vertex 4\n"
        b"property double x\nproperty double y\nproperty double z\nproperty float nx\n"
        b"property uchar red\nproperty uchar green\nproperty uchar blue\n"
        b"element face 1\nproperty list uchar int vertex_indices\nend_header\n"
    )
    pts = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)]
    body = b"".join(struct.pack(">3df3B", *p, 0.5, 10, 20, 30) for p in pts)
    body += struct.pack(">B4i", 4, 0, 1, 2, 3)
    (tmp_path / "q.ply").write_bytes(header + body)
    back = export.load(tmp_path / "q.ply")
    assert isinstance(back, Mesh)
    np.testing.assert_array_equal(back.verts, np.array(pts, dtype=np.float32))
    np.testing.assert_array_equal(back.faces, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_allclose(back.colors[0], np.array([10, 20, 30]) / 255.0, atol=1e-7)


@pytest.mark.parametrize("ext", [".stl", ".obj", ".ply", ".glb", ".3mf", ".npz"])
def test_mesh_round_trip_ours_and_trimesh(mesh, tmp_path, ext) -> None:
    path = export.save(mesh, tmp_path / f"m{ext}")
    back = export.load(path)
    assert isinstance(back, Mesh) and len(back.faces) == len(mesh.faces)
    # compare as sets of triangle corners: STL re-merges vertices, so indices may differ
    np.testing.assert_allclose(
        np.sort(back.verts[back.faces].reshape(-1, 9), axis=0),
        np.sort(mesh.verts[mesh.faces].reshape(-1, 9), axis=0),
        atol=1e-5,
    )
    if ext != ".stl":
        np.testing.assert_array_equal(back.faces, mesh.faces)
        np.testing.assert_allclose(back.colors, mesh.colors, atol=1 / 255 + 1e-6)
    if ext == ".npz":
        return
    tm = trimesh.load(io.BytesIO(path.read_bytes()), file_type=ext[1:], force="mesh")
    assert len(tm.faces) == len(mesh.faces)
    assert tm.is_watertight
    expected = trimesh.Trimesh(mesh.verts, mesh.faces)
    assert tm.volume == pytest.approx(expected.volume, rel=1e-4)
    np.testing.assert_allclose(
        tm.extents, expected.extents[[0, 2, 1]] if ext == ".glb" else expected.extents, atol=1e-4
    )


def test_glb_is_y_up_with_vertex_colours(mesh, tmp_path) -> None:
    raised = Mesh(mesh.verts + np.array([0, 0, 5.0]), mesh.faces, mesh.colors)
    path = export.save(raised, tmp_path / "up.glb")
    tm = trimesh.load(path, force="mesh", process=False)
    assert tm.vertices[:, 1].mean() == pytest.approx(5.0, abs=1e-4)  # our +Z is glTF +Y
    assert tm.visual.kind == "vertex"
    np.testing.assert_allclose(tm.visual.vertex_colors[:, :3] / 255.0, raised.colors, atol=1 / 255)


def test_glb_point_cloud_is_points_primitive(cloud, tmp_path) -> None:
    import json

    data = export.save(cloud, tmp_path / "pc.glb").read_bytes()
    (length,) = struct.unpack("<I", data[12:16])
    doc = json.loads(data[20 : 20 + length])
    prim = doc["meshes"][0]["primitives"][0]
    assert prim["mode"] == 0 and set(prim["attributes"]) == {"POSITION", "COLOR_0"}


def test_3mf_is_millimetres_with_colour_group(mesh, tmp_path) -> None:
    import zipfile

    path = export.save(mesh, tmp_path / "m.3mf")
    with zipfile.ZipFile(path) as zf:
        model = zf.read("3D/3dmodel.model").decode()
        assert "[Content_Types].xml" in zf.namelist()
    assert 'unit="millimeter"' in model and "<m:colorgroup" in model and 'p1="' in model
