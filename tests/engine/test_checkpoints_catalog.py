"""Catalogue contents, mirror order, store location and the registration hook."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.checkpoints import (
    POINTE_NAMES,
    ModelEntry,
    ModelFile,
    all_entries,
    catalog,
    default_store,
    get_entry,
    register_model,
    set_models_dir,
)
from engine.errors import CheckpointError


def test_catalogue_has_the_official_files_and_clip():
    from engine.models import MODEL_NAMES

    assert set(POINTE_NAMES) == set(MODEL_NAMES)
    sdf = get_entry("sdf").files[0]
    assert sdf.filename == "sdf.pt"
    assert sdf.mirrors == (
        "https://openaipublic.azureedge.net/main/point-e/",
        "https://openaipublic.blob.core.windows.net/main/point-e/",
    )
    assert get_entry("base1B").files[0].filename == "base_1b.pt"
    assert get_entry("upsample").files[0].filename == "upsample_40m.pt"
    assert get_entry("base1B").size == 1_244_311_564 * 4
    clip = get_entry("clip-vit-l-14")
    assert clip.kind == "clip" and clip.files[0].filename.endswith(".safetensors")
    for entry in all_entries():
        assert entry.purpose and entry.licence and entry.vram_hint


def test_text2image_placeholder_until_registered(monkeypatch, tmp_path):
    builtin = {e.name: e for e in catalog._BUILTIN}
    monkeypatch.setattr(catalog, "_registry", builtin)
    monkeypatch.setattr(catalog, "_plugins_loaded", True)  # as if no plugin module existed
    placeholder = [e for e in all_entries() if e.kind == "text2image"]
    assert len(placeholder) == 1 and placeholder[0].placeholder
    with pytest.raises(CheckpointError, match="cannot be downloaded yet"):
        default_store(tmp_path).download([placeholder[0].name])
    real = ModelEntry(
        name="tiny-t2i",
        kind="text2image",
        files=(ModelFile(filename="unet.safetensors", size=10, mirrors=("https://x/",)),),
        purpose="test",
        licence="test",
        params=1,
        vram_hint="1 GB",
    )
    register_model(real)
    kinds = [e for e in all_entries() if e.kind == "text2image"]
    assert kinds == [real]
    with pytest.raises(ValueError, match="already in the catalogue"):
        register_model(ModelEntry(**{**real.__dict__, "purpose": "other"}))


def test_mirror_order_env_then_settings_then_official(tmp_path, monkeypatch):
    monkeypatch.setenv("POINTE_MIRROR_URL", "http://lan/a/ http://lan/b/")
    store = default_store(tmp_path)
    sdf = get_entry("sdf").files[0]
    store.settings.extra_mirrors = ["http://extra/"]
    assert store.mirrors_for(sdf) == [
        "http://lan/a/",
        "http://lan/b/",
        "http://extra/",
        *sdf.mirrors,
    ]
    store.settings.mirrors["sdf.pt"] = ["http://mine/"]
    store.settings.save()
    reopened = default_store(tmp_path)
    assert reopened.mirrors_for(sdf)[-1] == "http://mine/"


def test_store_location_env_settings_never_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POINTE_STUDIO_HOME", raising=False)
    home_default = default_store().root
    assert Path(os.getcwd()) not in [home_default, *home_default.parents]
    monkeypatch.setenv("POINTE_STUDIO_HOME", str(tmp_path / "home"))
    assert default_store().root == tmp_path / "home" / "models"
    set_models_dir(tmp_path / "big-disk")
    assert default_store().root == tmp_path / "big-disk"
    set_models_dir(None)
    assert default_store().root == tmp_path / "home" / "models"


def test_plugin_entries_are_loaded_lazily(monkeypatch):
    """engine.text2image.catalog (when present) replaces the placeholder with a real entry."""
    pytest.importorskip("engine.text2image.catalog")
    monkeypatch.setattr(catalog, "_registry", {e.name: e for e in catalog._BUILTIN})
    monkeypatch.setattr(catalog, "_plugins_loaded", False)
    t2i = [e for e in all_entries() if e.kind == "text2image"]
    assert len(t2i) == 1 and not t2i[0].placeholder and t2i[0].files
