"""Offline import of files the user already has: recognised by structure, never unpickled."""

from __future__ import annotations

import pytest
import torch

from engine.checkpoints import ModelStore, load_official_model
from engine.checkpoints.importer import import_path
from engine.checkpoints.safeload import save_safetensors
from engine.errors import CheckpointError
from tests.ckpt_testing import Payload, all_tiny_overrides, tiny_state_dict


@pytest.fixture(scope="module")
def weights():
    names = ["base40M-textvec", "base40M-imagevec", "sdf", "base40M-uncond"]
    return {n: tiny_state_dict(n, seed=10 + i) for i, n in enumerate(names)}


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "store", overrides=all_tiny_overrides())


def test_import_point_e_model_cache_folder(tmp_path, store, weights):
    cache = tmp_path / "point_e_model_cache"
    cache.mkdir()
    torch.save(weights["base40M-textvec"], cache / "base_40m_textvec.pt")
    torch.save(weights["base40M-imagevec"], cache / "base_40m_imagevec.pt")
    torch.save(weights["sdf"], cache / "sdf.pt")
    (cache / "base_40m.pt.tmp").write_bytes(b"half a download")  # the original's partial file
    marker = tmp_path / "pwned"
    torch.save(Payload(marker), cache / "evil.pt")
    torch.save({"a": torch.zeros(3)}, cache / "other.pt")

    items = {i.path.name: i for i in import_path(store, cache)}
    assert set(items) == {
        "base_40m_textvec.pt",
        "base_40m_imagevec.pt",
        "sdf.pt",
        "evil.pt",
        "other.pt",
    }
    assert items["base_40m_textvec.pt"].name == "base40M-textvec"
    assert items["base_40m_imagevec.pt"].name == "base40M-imagevec"
    assert items["sdf.pt"].installed and items["sdf.pt"].message == "installed as sdf"
    assert not items["evil.pt"].installed and "Refused" in items["evil.pt"].message
    assert not marker.exists()
    assert "not a known model" in items["other.pt"].message
    assert store.installed_names() == ["base40M-textvec", "base40M-imagevec", "sdf"]
    for name in store.installed_names():
        got = load_official_model(name, store=store).state_dict()
        assert all(torch.equal(got[k], v) for k, v in weights[name].items())
    assert not list(store.root.rglob("*.pt"))  # everything stored as safetensors

    again = import_path(store, cache / "sdf.pt")
    assert again[0].message == "sdf is already installed; skipped"


def test_identical_architectures_are_not_guessed(tmp_path, store, weights):
    mystery = tmp_path / "checkpoint.pt"
    torch.save(weights["base40M-imagevec"], mystery)
    [item] = import_path(store, mystery)
    assert not item.installed and "base40M-textvec or base40M-imagevec" in item.message
    assert store.installed_names() == []
    [item] = import_path(store, mystery, as_name="base40M-imagevec")
    assert item.installed and store.installed_names() == ["base40M-imagevec"]
    [item] = import_path(store, mystery, as_name="sdf")
    assert not item.installed and "is not sdf" in item.message


def test_import_safetensors_from_a_hub_style_cache(tmp_path, store, weights):
    snap = tmp_path / "hub" / "models--someone--pointe" / "snapshots" / "abc123"
    blobs = tmp_path / "hub" / "models--someone--pointe" / "blobs"
    snap.mkdir(parents=True)
    blobs.mkdir()
    save_safetensors(weights["base40M-uncond"], blobs / "0f3e")
    (snap / "model.safetensors").symlink_to(blobs / "0f3e")  # how the HF cache stores files
    [item] = import_path(store, tmp_path / "hub")
    assert item.installed and item.name == "base40M-uncond"
    assert not store.model_path("base40M-uncond").is_symlink()


def test_import_nothing_found_is_a_clear_error(tmp_path, store):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="No weight files"):
        import_path(store, tmp_path / "empty")
    with pytest.raises(CheckpointError, match="does not exist"):
        import_path(store, tmp_path / "nope")
    with pytest.raises(ValueError, match="unknown model"):
        import_path(store, tmp_path / "empty", as_name="base2B")
