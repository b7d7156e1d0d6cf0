"""History store: results saved as Point-E npz + thumbnail + JSON, listed newest first, deleted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop.history import HistoryStore, load_cloud_npz
from engine.pointcloud import PointCloud


def _cloud(n: int = 100, seed: int = 0) -> PointCloud:
    rng = np.random.default_rng(seed)
    return PointCloud(rng.normal(size=(n, 3)).astype(np.float32), rng.random((n, 3)))


def test_save_load_roundtrip_with_pointe_keys(tmp_path):
    store = HistoryStore(tmp_path / "h")
    cloud = _cloud()
    thumb = np.zeros((16, 16, 3), np.uint8)
    entry = store.save(cloud, {"prompt": "a red cube", "seed": 7, "model": "embedded"}, thumb)
    with np.load(entry.cloud_path, allow_pickle=False) as data:
        assert sorted(data.files) == ["B", "G", "R", "coords"]
    back = store.load(entry)
    np.testing.assert_array_equal(back.coords, cloud.coords)
    np.testing.assert_allclose(back.colors, cloud.colors, atol=1e-7)
    meta = json.loads((entry.folder / "meta.json").read_text())
    assert meta["prompt"] == "a red cube" and meta["seed"] == 7 and meta["n_points"] == 100
    assert entry.thumb_path.is_file()
    assert not [p for p in store.root.iterdir() if p.name.startswith(".tmp")]


def test_entries_newest_first_and_survive_a_new_store(tmp_path):
    store = HistoryStore(tmp_path)
    first = store.save(_cloud(seed=1), {"prompt": "one"})
    second = store.save(_cloud(seed=2), {"prompt": "two"})
    again = HistoryStore(tmp_path).entries()
    assert [e.key for e in again] == [second.key, first.key]
    assert again[0].title == "two"


def test_damaged_entries_are_skipped(tmp_path):
    store = HistoryStore(tmp_path)
    good = store.save(_cloud(), {"prompt": "ok"})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "meta.json").write_text("{not json")
    (tmp_path / "nocloud").mkdir()
    (tmp_path / "nocloud" / "meta.json").write_text("{}")
    assert [e.key for e in store.entries()] == [good.key]


def test_delete_only_inside_the_store(tmp_path):
    store = HistoryStore(tmp_path / "h")
    entry = store.save(_cloud(), {"prompt": "x"})
    store.delete(entry)
    assert not entry.folder.exists() and store.entries() == []
    outsider = type(entry)(tmp_path, {})
    with pytest.raises(ValueError):
        store.delete(outsider)
    assert tmp_path.exists()


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, coords=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        load_cloud_npz(path)
