"""Bad files and failed writes give clear messages, and never damage an existing file."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from engine import export
from engine.errors import StudioError, UserInputError
from engine.export import ExportError
from engine.pointcloud import Mesh, PointCloud


@pytest.fixture
def cloud() -> PointCloud:
    rng = np.random.default_rng(0)
    return PointCloud(rng.uniform(-0.5, 0.5, (64, 3)), rng.uniform(0, 1, (64, 3)))


def test_full_disk_keeps_existing_file_and_leaves_no_temp(cloud, tmp_path, monkeypatch) -> None:
    target = tmp_path / "keep.ply"
    target.write_bytes(b"precious")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("engine.export._io.os.fsync", full)
    with pytest.raises(ExportError, match=r"disk is full.*left unchanged") as info:
        export.save(cloud, target)
    assert isinstance(info.value, StudioError)
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["keep.ply"]


def test_missing_folder_is_a_clear_error(cloud, tmp_path) -> None:
    with pytest.raises(ExportError, match="folder does not exist"):
        export.save(cloud, tmp_path / "nope" / "pc.ply")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_is_a_clear_error(cloud, tmp_path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="permission denied"):
            export.save(cloud, folder / "pc.ply")
    finally:
        folder.chmod(0o700)


def test_overwrite_replaces_file(cloud, tmp_path) -> None:
    target = tmp_path / "pc.ply"
    target.write_bytes(b"old")
    export.save(cloud, target)
    assert target.read_bytes().startswith(b"ply\n")


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        (PointCloud(np.zeros((0, 3))), "empty"),
        (PointCloud(np.array([[0, 0, np.nan], [1, 1, 1]])), "NaN"),
        (Mesh(np.zeros((3, 3)), np.zeros((0, 3))), "no triangles"),
    ],
)
def test_bad_objects_are_refused(obj, match, tmp_path) -> None:
    with pytest.raises(UserInputError, match=match):
        export.save(obj, tmp_path / "x.ply")
    assert not (tmp_path / "x.ply").exists()


def test_point_cloud_cannot_be_stl(cloud, tmp_path) -> None:
    with pytest.raises(UserInputError, match=r"cannot be saved as \.stl.*mesh first"):
        export.save(cloud, tmp_path / "x.stl")


def test_non_ply_renamed_ply(tmp_path) -> None:
    path = tmp_path / "photo.ply"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is a jpeg")
    with pytest.raises(UserInputError, match=r"photo\.ply: Not a PLY file"):
        export.load(path)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("element vertex 1\nproperty float x\nproperty float y\n", "x, y and z"),
        ("element vertex 1\nproperty float x\nproperty float y\nproperty quux z\n", "header line"),
        ("element vertex 1\nproperty list uchar float x\n", "x, y and z"),
        ("element point 1\nproperty float x\n", "no 'vertex'"),
        (
            "element vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
            "element face 1\nproperty list uchar int corners\n",
            "vertex_index",
        ),
    ],
)
def test_unknown_ply_layouts(tmp_path, header, match) -> None:
    path = tmp_path / "odd.ply"
    path.write_bytes(
        f"ply\nformat binary_little_endian 1.0\n{header}end_header\n".encode() + b"\0" * 32
    )
    with pytest.raises(UserInputError, match=match):
        export.load(path)


def test_unknown_ply_format_and_truncation(cloud, tmp_path) -> None:
    path = tmp_path / "x.ply"
    path.write_bytes(b"ply\nformat binary_middle_endian 1.0\nelement vertex 0\nend_header\n")
    with pytest.raises(UserInputError, match="format"):
        export.load(path)
    data = export.save(cloud, path).read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(UserInputError, match="truncated"):
        export.load(path)


def test_ply_with_nan_and_bad_face_index(tmp_path) -> None:
    from engine.export.ply import encode_ply

    path = tmp_path / "x.ply"
    path.write_bytes(encode_ply(np.array([[np.nan, 0, 0]] * 3)))
    with pytest.raises(UserInputError, match="NaN"):
        export.load(path)
    path.write_bytes(encode_ply(np.zeros((3, 3)), faces=np.array([[0, 1, 7]])))
    with pytest.raises(UserInputError, match="do not exist"):
        export.load(path)


def test_npz_never_unpickles(tmp_path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, coords=np.array([object()], dtype=object))
    with pytest.raises(UserInputError, match=r"Cannot open evil\.npz"):
        export.load(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(UserInputError, match="NPZ"):
        export.load(path)


def test_unknown_extension_and_missing_file(tmp_path) -> None:
    with pytest.raises(UserInputError, match="unknown file type"):
        export.load(tmp_path / "x.xyz")
    with pytest.raises(UserInputError, match="not found"):
        export.load(tmp_path / "missing.ply")
    for ext in (".glb", ".3mf", ".stl"):
        (tmp_path / f"junk{ext}").write_bytes(b"junk")
        with pytest.raises(UserInputError, match=f"junk{ext}"):
            export.load(tmp_path / f"junk{ext}")
