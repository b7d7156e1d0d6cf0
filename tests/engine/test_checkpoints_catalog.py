"""Catalogue contents, mirror order, store location and the registration hook."""

from __future__ import annotations

import os
from pathlib import Path

from engine.checkpoints import (
    POINTE_NAMES,
    all_entries,
    catalog,
    default_store,
    get_entry,
    set_models_dir,
)


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
    """engine.text2image.catalog's entry appears only once the catalogue is first read."""
    monkeypatch.setattr(catalog, "_registry", {e.name: e for e in catalog._BUILTIN})
    monkeypatch.setattr(catalog, "_plugins_loaded", False)
    assert "sd-turbo" not in catalog._registry  # nothing imported at module load
    t2i = [e for e in all_entries() if e.kind == "text2image"]
    assert [e.name for e in t2i] == ["sd-turbo"] and t2i[0].files
