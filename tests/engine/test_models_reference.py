"""The networks reproduce the reference forward vectors and the official state-dict layout."""

from __future__ import annotations

import json

import pytest
import torch

from engine.models import (
    MODEL_NAMES,
    StateDictMismatch,
    build_model,
    check_state_dict,
    config_from_official_kwargs,
    get_config,
    load_state_dict_strict,
)
from engine.models.layers import timestep_embedding

FORWARD_FILES = [
    "pdt_timetoken.pt",
    "pdt_no_timetoken.pt",
    "clipvec.pt",
    "clipgrid.pt",
    "clipgrid_upsample.pt",
]
TOL = 1e-4


def _load(vectors_dir, name):
    return torch.load(vectors_dir / name, weights_only=True)


def _model_from_reference(ref):
    model = build_model(config_from_official_kwargs(ref["config"]))
    load_state_dict_strict(model, ref["state_dict"])
    return model


@pytest.mark.parametrize("filename", FORWARD_FILES)
def test_forward_matches_reference_with_intermediates(vectors_dir, filename):
    ref = _load(vectors_dir, filename)
    model = _model_from_reference(ref)
    seen: dict[str, torch.Tensor] = {}
    handles = [
        dict(model.named_modules())[name].register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, out.detach())
        )
        for name in ref["intermediates"]
    ]
    inputs = dict(ref["inputs"])
    with torch.no_grad():
        if filename == "clipgrid_upsample.pt":  # intermediates were recorded without a grid
            emb = inputs.pop("embeddings")
            out = model(**inputs, embeddings=emb)
            out_none = model(**inputs)  # last call: the hooks keep its intermediates
            assert (out_none - ref["output_embeddings_none"]).abs().max() < TOL
        else:
            out = model(**inputs)
    for h in handles:
        h.remove()
    assert out.shape == ref["output"].shape
    assert (out - ref["output"]).abs().max().item() < TOL
    for name, want in ref["intermediates"].items():
        diff = (seen[name] - want).abs().max().item()
        assert diff < TOL, f"{filename}: intermediate {name} differs by {diff}"


def test_sdf_model_matches_reference(vectors_dir):
    ref = _load(vectors_dir, "sdf.pt")
    model = _model_from_reference(ref)
    with torch.no_grad():
        latents = model.encode_point_clouds(ref["inputs"]["point_clouds"])
        out = model.predict_sdf(ref["inputs"]["query_points"], latents)
        out2 = model(ref["inputs"]["query_points"], ref["inputs"]["point_clouds"])
    assert (latents - ref["encoded_latents"]).abs().max() < TOL
    assert (out - ref["output"]).abs().max() < TOL
    assert torch.equal(out, out2)


# cos/sin of float32 arguments up to t = 1023 rad: a float32 there is only good to 6e-5, and
# torch's vectorised kernels (AVX2 vs AVX-512) reduce such arguments differently, so two correct
# implementations differ by up to ~3e-5 on large t. Small t must still match to 1e-6.
EMBED_TOL = 1e-4


def test_timestep_embedding_matches_reference(vectors_dir):
    ref = _load(vectors_dir, "timestep_embedding.pt")
    small = ref["t"] < 8
    for dim in (64, 512, 7):
        got = timestep_embedding(ref["t"], dim)
        assert (got - ref[f"dim{dim}"]).abs().max() < EMBED_TOL
        assert (got[small] - ref[f"dim{dim}"][small]).abs().max() < 1e-6
    got = timestep_embedding(ref["t_long"], 64)
    assert (got - ref["dim64_long"]).abs().max() < EMBED_TOL


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_full_size_layout_equals_official(vectors_dir, name):
    official = json.loads((vectors_dir / "keys.json").read_text())["models"][name]
    model = build_model(name, device="meta")
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    want = {k: v["shape"] for k, v in official["state_dict"].items()}
    assert list(got) == list(want)  # same keys in the same order
    assert got == want
    assert sum(p.numel() for p in model.parameters()) == official["n_params"]
    # a state dict of exactly that layout loads strictly
    fake = {k: torch.empty(v, device="meta") for k, v in want.items()}
    model.load_state_dict(fake, strict=True, assign=True)


def test_state_dict_mismatch_names_offending_keys():
    model = build_model("base40M-textvec", width=32, layers=1, heads=2)
    sd = model.state_dict()
    broken = dict(sd)
    broken.pop("ln_pre.weight")
    broken["bogus.weight"] = torch.zeros(1)
    broken["clip_embed.weight"] = torch.zeros(3, 3)
    with pytest.raises(StateDictMismatch) as info:
        check_state_dict(model, broken)
    msg = str(info.value)
    assert "ln_pre.weight" in msg and "bogus.weight" in msg and "clip_embed.weight" in msg
    check_state_dict(model, sd)  # the real one passes


def test_unknown_model_lists_known_names():
    with pytest.raises(ValueError, match="base40M-textvec"):
        get_config("base2B")
    with pytest.raises(TypeError, match="unknown config field"):
        get_config("base40M", widht=3)


def test_wrong_input_shapes_raise_clear_errors():
    model = build_model("base40M", width=32, layers=1, heads=2, n_ctx=16)
    x, t = torch.zeros(2, 6, 16), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"x must have shape \[\*, 6, 16\]"):
        model(torch.zeros(2, 3, 16), t)
    with pytest.raises(ValueError, match="t must have shape"):
        model(x, torch.zeros(3))
    with pytest.raises(ValueError, match="embeddings must have shape"):
        model(x, t, embeddings=torch.zeros(2, 768))
    assert model(x, t).shape == (2, 12, 16)  # omitted grid = unconditional


def test_untrained_model_predicts_zero_and_dropout_only_in_training():
    model = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=8)
    out = model(torch.randn(2, 6, 8), torch.tensor([3, 4]), torch.randn(2, 768))
    assert torch.count_nonzero(out) == 0  # output_proj is zero-initialised
    emb = torch.ones(1000, 768)
    model.train()
    dropped = (model._drop_cond(emb).sum(dim=1) == 0).float().mean().item()
    model.eval()
    assert 0.05 < dropped < 0.15
    assert torch.equal(model._drop_cond(emb), emb)
