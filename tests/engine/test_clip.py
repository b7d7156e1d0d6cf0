"""FrozenCLIP: normalised vectors, the pre-ln_post patch grid, CLIP preprocessing, loading."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from engine.errors import CheckpointError, ModelNotInstalled, UserInputError
from engine.models.clip import CLIP_MEAN, CLIP_STD, FrozenCLIP, _vision_tokens_manual, load_clip
from tests.engine.tiny_models import tiny_clip_name, tiny_open_clip


@pytest.fixture(scope="module")
def clip() -> FrozenCLIP:
    return FrozenCLIP(tiny_open_clip(seed=3))


def _photo(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_text_vectors_are_unit_float32_and_prompt_dependent(clip: FrozenCLIP) -> None:
    emb = clip.embed_text(["a red cube", "a corgi", "a red cube"])
    assert emb.shape == (3, 16) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(emb[0], emb[2])
    assert (emb[0] - emb[1]).abs().max() > 1e-3


def test_text_vector_matches_encode_text_normalised(clip: FrozenCLIP) -> None:
    import open_clip

    tokens = open_clip.tokenize(["a chair"])
    ref = clip.model.encode_text(tokens).float()
    ref = ref / ref.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(clip.embed_text(["a chair"]), ref.detach())


@pytest.mark.parametrize("bad", [[""], ["   \n"], []])
def test_empty_prompt_is_a_user_error(clip: FrozenCLIP, bad: list[str]) -> None:
    with pytest.raises(UserInputError):
        clip.embed_text(bad)


def test_prompt_must_be_a_list_of_strings(clip: FrozenCLIP) -> None:
    with pytest.raises(TypeError, match="prompts"):
        clip.embed_text("a cube")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"prompts\[1\]"):
        clip.embed_text(["a cube", 3])  # type: ignore[list-item]


def test_long_prompt_is_truncated_like_clip_with_a_warning(
    clip: FrozenCLIP, caplog: pytest.LogCaptureFixture
) -> None:
    head = " ".join(["cube"] * 75)  # 75 tokens + start + end = 77: exactly fits
    with caplog.at_level(logging.WARNING, logger="engine.models.clip"):
        clip.embed_text([head])
    assert not caplog.records
    long_a, long_b = head + " red red red", head + " blue green"
    with caplog.at_level(logging.WARNING, logger="engine.models.clip"):
        emb = clip.embed_text([long_a, long_b])
    assert any("only the first 77" in r.getMessage() for r in caplog.records)
    tokens = clip.tokenize([long_a])
    assert tokens.shape == (1, 77) and int(tokens[0, -1]) == clip.tokenizer.eot_token_id
    # Everything past token 76 is cut, so both prompts embed the same.
    torch.testing.assert_close(emb[0], emb[1])


def test_preprocess_is_clip_transform_by_hand(clip: FrozenCLIP) -> None:
    img = _photo(300, 200, seed=1)
    got = clip.preprocess([img])[0]  # (3, 224, 224)
    # shorter side -> 224 bicubic: 300x200 -> 336x224, centre crop 224 (offset 56), normalise
    resized = np.asarray(img.resize((336, 224), Image.BICUBIC), dtype=np.float32) / 255.0
    crop = resized[:, 56 : 56 + 224]
    want = (crop - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    torch.testing.assert_close(got, torch.from_numpy(want).permute(2, 0, 1), atol=1e-5, rtol=0)


def test_image_vectors_unit_norm_and_inputs_equivalent(clip: FrozenCLIP) -> None:
    img = _photo(64, 80, seed=2)
    arr = np.asarray(img)
    emb = clip.embed_images([img, arr, torch.from_numpy(arr.copy()), None])
    assert emb.shape == (4, 16) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(4))
    torch.testing.assert_close(emb[0], emb[1])
    torch.testing.assert_close(emb[0], emb[2])
    black = clip.embed_images([Image.new("RGB", (64, 64))])
    torch.testing.assert_close(emb[3], black[0])  # None is Point-E's 64x64 black image
    assert (emb[0] - emb[3]).abs().max() > 1e-3


def test_image_input_errors(clip: FrozenCLIP) -> None:
    with pytest.raises(TypeError, match="images"):
        clip.embed_images(_photo(8, 8))  # type: ignore[arg-type]
    with pytest.raises(UserInputError):
        clip.embed_images([])
    with pytest.raises(UserInputError, match="shape"):
        clip.embed_images([np.zeros((4, 4, 5), np.uint8)])


def _grid_by_hand(visual: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The vision tower step by step (spec section 12), independent of open_clip's helpers."""
    b = x.shape[0]
    h = visual.conv1(x)  # (B, C, g, g)
    c = h.shape[1]
    h = h.reshape(b, c, -1).transpose(1, 2)  # (B, g*g, C), row-major
    h = torch.cat([visual.class_embedding.reshape(1, 1, c).expand(b, 1, c), h], dim=1)
    h = visual.ln_pre(h + visual.positional_embedding)
    for block in visual.transformer.resblocks:
        y = block.ln_1(h)
        attn = block.attn
        q, k, v = torch.nn.functional.linear(y, attn.in_proj_weight, attn.in_proj_bias).chunk(3, -1)
        heads = attn.num_heads
        q, k, v = (t.reshape(b, -1, heads, c // heads).transpose(1, 2) for t in (q, k, v))
        w = torch.softmax(q @ k.transpose(-1, -2) / (c // heads) ** 0.5, dim=-1)
        a = (w @ v).transpose(1, 2).reshape(b, -1, c)
        h = h + block.ls_1(attn.out_proj(a))
        y = block.mlp.c_fc(block.ln_2(h))
        y = y * torch.sigmoid(1.702 * y)  # QuickGELU
        h = h + block.ls_2(block.mlp.c_proj(y))
    return h[:, 1:].transpose(1, 2)  # (B, C, P), class token dropped, no ln_post


def test_grid_is_pre_ln_post_patch_tokens(clip: FrozenCLIP) -> None:
    images = [_photo(240, 224, seed=5), None]
    grid = clip.embed_images_grid(images)
    assert grid.shape == (2, clip.grid_channels, clip.grid_tokens) == (2, 32, 256)
    assert grid.dtype == torch.float32
    with torch.no_grad():
        x = clip.preprocess(images)
        want = _grid_by_hand(clip.model.visual, x)
        fallback = _vision_tokens_manual(clip.model.visual, x)[:, 1:].transpose(1, 2)
        post = clip.model.visual.ln_post(want.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(grid, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grid, fallback, atol=1e-5, rtol=1e-5)
    assert (grid - post).abs().max() > 1e-2  # really before ln_post


def test_full_size_vit_l14_shapes_on_meta() -> None:
    import open_clip

    cfg = open_clip.get_model_config("ViT-L-14-quickgelu")
    with torch.device("meta"):
        model = open_clip.model.CLIP(**cfg)
    assert sum(p.numel() for p in model.parameters()) == 427_616_513
    clip = FrozenCLIP(model)
    assert clip.embed_images_grid([None]).shape == (1, 1024, 256)
    assert clip.embed_images([None]).shape == (1, 768)
    assert clip.embed_text(["a corgi"]).shape == (1, 768)


def test_half_precision_weights_give_float32_close_to_float32(clip: FrozenCLIP) -> None:
    half = FrozenCLIP(tiny_open_clip(seed=3).to(torch.bfloat16))
    img = [_photo(224, 224, seed=9)]
    grid = half.embed_images_grid(img)
    assert grid.dtype == torch.float32
    ref = clip.embed_images_grid(img)
    assert (grid - ref).abs().max() < 0.05 * ref.abs().max()


def test_load_clip_from_local_safetensors(tmp_path, clip: FrozenCLIP) -> None:
    from safetensors.torch import save_file

    tiny = tiny_open_clip(seed=11)
    path = tmp_path / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in tiny.state_dict().items()}, str(path))
    name = tiny_clip_name()
    loaded = load_clip(path, "cpu", model_name=name)
    img = [_photo(100, 120, seed=4)]
    torch.testing.assert_close(
        loaded.embed_images_grid(img), FrozenCLIP(tiny).embed_images_grid(img)
    )
    torch.testing.assert_close(loaded.embed_text(["x"]), FrozenCLIP(tiny).embed_text(["x"]))
    random = load_clip(None, "cpu", model_name=name)
    assert random.embed_text(["x"]).shape == (1, 16)


def test_load_clip_missing_or_damaged_file(tmp_path) -> None:
    with pytest.raises(ModelNotInstalled, match="clip"):
        load_clip(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    tiny_open_clip()  # registers the tiny config
    with pytest.raises(CheckpointError, match="CLIP"):
        load_clip(bad, model_name=tiny_clip_name())
