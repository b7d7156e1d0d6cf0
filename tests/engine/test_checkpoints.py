"""Model store: install from a local server, safe loading, refusals, structure checks, removal."""

from __future__ import annotations

import pytest
import torch

from engine.checkpoints import (
    ModelNotInstalled,
    ModelStore,
    load_official_model,
    missing_models,
)
from engine.checkpoints.download import Downloader
from engine.checkpoints.settings import read_json
from engine.errors import CheckpointError
from tests.ckpt_testing import (
    FileServer,
    Payload,
    ServerState,
    all_tiny_overrides,
    pt_bytes,
    tiny_state_dict,
)


@pytest.fixture(scope="module")
def weights():
    return {n: tiny_state_dict(n, seed=i) for i, n in enumerate(["base40M", "sdf", "upsample"])}


@pytest.fixture
def server():
    with FileServer(ServerState()) as srv:
        yield srv


@pytest.fixture
def store(tmp_path, server, monkeypatch):
    monkeypatch.delenv("POINTE_MIRROR_URL", raising=False)
    s = ModelStore(
        tmp_path / "store",
        overrides=all_tiny_overrides(),
        downloader=Downloader(tmp_path / "store" / ".partial", backoff=0.01),
    )
    s.settings.extra_mirrors = [server.url + "/m/"]
    return s


def store_files(store: ModelStore) -> list[str]:
    """Everything in the store except settings: what a failed install must not leave behind."""
    return sorted(
        p.relative_to(store.root).as_posix()
        for p in store.root.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )


def test_download_installs_safetensors_and_loads_the_exact_weights(store, server, weights):
    server.state.files["/m/base_40m.pt"] = pt_bytes(weights["base40M"])
    server.state.files["/m/sdf.pt"] = pt_bytes(weights["sdf"])
    assert store.download(["base40M", "sdf"]) == ["base40M", "sdf"]
    assert [r["path"] for r in server.state.requests] == ["/m/base_40m.pt", "/m/sdf.pt"]
    assert store_files(store) == ["base40M/base_40m.safetensors", "sdf/sdf.safetensors"]
    manifest = read_json(store.root / "manifest.json", {})
    assert len(manifest["known_sources"]["sdf.pt"]["sha256"]) == 64
    assert manifest["known_sources"]["sdf.pt"]["size"] == len(server.state.files["/m/sdf.pt"])
    for name in ("base40M", "sdf"):
        model = load_official_model(name, store=store)
        assert not model.training
        got = model.state_dict()
        assert all(torch.equal(got[k], v) for k, v in weights[name].items())
    assert missing_models(["sdf", "upsample", "base40M", "upsample"], store) == ["upsample"]
    assert [r.ok for r in store.verify()] == [True, True]
    assert store.download(["sdf"]) == []  # already installed: nothing fetched
    assert len(server.state.requests) == 2


def test_not_installed_raises_model_not_installed(store):
    with pytest.raises(ModelNotInstalled, match="models download upsample") as info:
        load_official_model("upsample", store=store)
    assert info.value.names == ("upsample",)
    with pytest.raises(ValueError, match="unknown model"):
        missing_models(["base2B"], store)


def _refused(store, server, body: bytes, match: str, name="base40M", file="/m/base_40m.pt"):
    server.state.files[file] = body
    with pytest.raises(CheckpointError, match=match) as info:
        store.download([name])
    assert not store.is_installed(name)
    assert store_files(store) == []  # no half-installed model, no partial, no lock
    return str(info.value)


def test_truncated_file_is_refused(store, server, weights):
    body = pt_bytes(weights["base40M"])
    _refused(store, server, body[: len(body) // 2], "damaged or incomplete")


def test_garbage_file_is_refused(store, server):
    _refused(store, server, b"<html>503 Service Unavailable</html>" * 100, "not a PyTorch")


def test_corruption_after_a_recorded_download_is_caught_by_the_hash(store, server, weights):
    body = pt_bytes(weights["base40M"])
    server.state.files["/m/base_40m.pt"] = body
    store.download(["base40M"])
    store.remove("base40M")
    assert not (store.root / "base40M").exists()
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 0xFF  # inside tensor data: torch.load alone would not notice
    _refused(store, server, bytes(flipped), "SHA-256 does not match")


def test_wrong_keys_are_refused_with_the_file_named(store, server, weights):
    message = _refused(store, server, pt_bytes(weights["sdf"]), "not a valid base40M checkpoint")
    assert "base_40m.pt" in message and "missing" in message and "download" in message


def test_wrong_shapes_are_refused(store, server, weights):
    bad = dict(weights["base40M"])
    bad["output_proj.weight"] = torch.zeros(7, 32)
    message = _refused(store, server, pt_bytes(bad), "wrong shape")
    assert "output_proj.weight [7, 32]" in message


@pytest.mark.parametrize("where", ["whole", "inside"])
def test_malicious_pickle_is_refused_and_never_runs(store, server, weights, tmp_path, where):
    marker = tmp_path / "pwned"
    payload = Payload(marker)
    obj = payload if where == "whole" else {**weights["base40M"], "extra": payload}
    message = _refused(store, server, pt_bytes(obj), "Refused base_40m.pt")
    assert "code" in message
    assert not marker.exists()
    pickle_check = tmp_path / "control"  # the payload does work when unpickled unsafely
    import pickle

    pickle.loads(pickle.dumps(Payload(pickle_check)))
    assert pickle_check.exists()


def test_load_checks_structure_every_time(store, server, weights):
    server.state.files["/m/upsample_40m.pt"] = pt_bytes(weights["upsample"])
    store.download(["upsample"])
    from safetensors.torch import save_file

    tampered = dict(weights["upsample"])
    del tampered["cond_point_proj.bias"]
    save_file(tampered, str(store.model_path("upsample")))
    with pytest.raises(CheckpointError, match="not a valid upsample") as info:
        store.load_state_dict("upsample")
    assert "upsample_40m.safetensors" in str(info.value)
    result = store.verify(["upsample"])[0]
    assert not result.ok and "changed on disk" in result.message


def test_official_key_layout_matches_reference(vectors_dir):
    """The store's structural check uses the same keys and shapes as the official files."""
    import json

    from engine.checkpoints import structure

    ref = json.loads((vectors_dir / "keys.json").read_text())["models"]
    for name, info in ref.items():
        shapes = {k: tuple(v["shape"]) for k, v in info["state_dict"].items()}
        assert structure.mismatch(name, shapes) is None
        found = structure.recognise(shapes)
        expected = ["base40M-textvec", "base40M-imagevec"] if name.endswith("vec") else [name]
        assert found == expected, name


def test_clip_vit_l14_is_recognised_from_open_clip_keys():
    import open_clip

    from engine.checkpoints import structure

    with torch.device("meta"):
        model = open_clip.create_model("ViT-L-14-quickgelu", device="meta")
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert structure.recognise(shapes) == ["clip-vit-l-14"]
    shapes.pop("visual.proj")
    assert structure.recognise(shapes) == []


def test_disk_full_while_converting_leaves_nothing(store, server, weights, monkeypatch):
    import errno

    import safetensors.torch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    _refused(store, server, pt_bytes(weights["base40M"]), "the disk is full")
    assert not (store.root / "base40M").exists()


def test_multi_file_folder_model_is_installed_as_a_folder(store, server, monkeypatch, tmp_path):
    """How a registered text-to-image model (diffusers folder layout) is fetched and stored."""
    from engine.checkpoints import ModelEntry, ModelFile, catalog
    from engine.checkpoints.safeload import save_safetensors

    monkeypatch.setattr(catalog, "_registry", dict(catalog._registry))
    save_safetensors({"w": torch.arange(6.0)}, tmp_path / "unet.safetensors")
    served = {
        "unet/diffusion_pytorch_model.safetensors": (tmp_path / "unet.safetensors").read_bytes(),
        "unet/config.json": b'{"sample_size": 64}',
        "text_encoder/pytorch_model.bin": pt_bytes({"emb": torch.ones(2, 3)}),
    }
    for name, body in served.items():
        server.state.files["/m/" + name] = body
    files = tuple(ModelFile(filename=n, size=len(b), mirrors=()) for n, b in served.items())
    catalog.register_model(
        ModelEntry(
            name="t2i-test",
            kind="text2image",
            files=files,
            purpose="test",
            licence="test",
            params=1,
            vram_hint="-",
        )
    )
    assert store.download(["t2i-test"]) == ["t2i-test"]
    folder = store.model_dir("t2i-test")
    assert (folder / "unet/config.json").read_bytes() == served["unet/config.json"]
    assert (folder / "unet/diffusion_pytorch_model.safetensors").read_bytes() == served[
        "unet/diffusion_pytorch_model.safetensors"
    ]
    assert not (folder / "text_encoder/pytorch_model.bin").exists()  # pickles are converted
    from safetensors.torch import load_file

    converted = load_file(str(folder / "text_encoder/pytorch_model.safetensors"))
    assert torch.equal(converted["emb"], torch.ones(2, 3))
    assert store.is_installed("t2i-test") and store.verify(["t2i-test"])[0].ok
    (folder / "unet/config.json").unlink()
    assert not store.is_installed("t2i-test")
