"""Text -> picture stage on a tiny random diffusers pipeline saved to disk and loaded by path."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import GenerationCancelled, ModelNotInstalled, UserInputError
from engine.text2image import (
    DEFAULT_PROMPT_TEMPLATE,
    TEXT2IMAGE_DEFAULT,
    ImageStep,
    TextToImage,
    build_prompt,
    is_installed,
    missing_parts,
)
from tests.engine.tiny_models import tiny_sd_pipeline


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_sd_pipeline(tmp_path_factory.mktemp("t2i") / "tiny-sd")


@pytest.fixture(scope="module")
def t2i(tiny_folder: Path) -> TextToImage:
    return TextToImage(model=str(tiny_folder), steps=2, guidance=0.0)


@pytest.fixture(autouse=True)
def _isolated_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may find a real model store or Hugging Face cache on this machine."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("POINTE_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def _drain(gen):
    records = []
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            return records, stop.value


def _text_encoder_inputs(t2i: TextToImage) -> tuple[list, object]:
    seen: list = []
    handle = t2i.pipeline().text_encoder.register_forward_pre_hook(
        lambda _m, args, kwargs: seen.append((args[0] if args else kwargs["input_ids"]).clone()),
        with_kwargs=True,
    )
    return seen, handle


def test_generates_a_picture_with_progress_and_seed(t2i: TextToImage) -> None:
    records, image = _drain(t2i.generate("a red cube", seed=1))
    assert isinstance(image, Image.Image) and image.size == (64, 64) and image.mode == "RGB"
    assert [(r.phase, r.step) for r in records] == [("load", 0), ("denoise", 1), ("denoise", 2)]
    assert all(isinstance(r, ImageStep) and r.total_steps == 2 for r in records)
    assert records[-1].elapsed_s >= records[1].elapsed_s >= 0
    _, again = _drain(t2i.generate("a red cube", seed=1))
    _, other = _drain(t2i.generate("a red cube", seed=2))
    np.testing.assert_array_equal(np.asarray(image), np.asarray(again))  # reproducible
    assert np.abs(np.asarray(image, int) - np.asarray(other, int)).max() > 0


def test_steps_argument_overrides_settings(t2i: TextToImage) -> None:
    calls = []
    handle = t2i.pipeline().unet.register_forward_hook(lambda *_: calls.append(1))
    try:
        records, _ = _drain(t2i.generate("a mug", seed=0, steps=3))
    finally:
        handle.remove()
    assert len(calls) == 3 and [r.step for r in records][-1] == 3


def test_prompt_template_is_what_the_model_reads(t2i: TextToImage) -> None:
    seen, handle = _text_encoder_inputs(t2i)
    try:
        _drain(t2i.generate("  a   small chair ", seed=0))
    finally:
        handle.remove()
    want = build_prompt("a small chair", DEFAULT_PROMPT_TEMPLATE)
    assert want.startswith("a 3D render of a small chair,") and "white background" in want
    ids = t2i.pipeline().tokenizer(want, padding="max_length", max_length=77, truncation=True)
    assert len(seen) == 1  # guidance 0: no negative prompt is encoded
    assert seen[0][0].tolist() == ids["input_ids"]


def test_negative_prompt_used_with_guidance(tiny_folder: Path) -> None:
    guided = TextToImage(model=str(tiny_folder), steps=1, guidance=3.0, negative_prompt="blurry")
    assert guided.uses_negative_prompt
    seen, handle = _text_encoder_inputs(guided)
    try:
        _drain(guided.generate("a lamp"))
    finally:
        handle.remove()
    tok = guided.pipeline().tokenizer
    encoded = {tuple(t[0].tolist()) for t in seen}
    neg = tok("blurry", padding="max_length", max_length=77, truncation=True)["input_ids"]
    assert tuple(neg) in encoded and len(encoded) == 2


def test_cancel_between_denoising_steps(t2i: TextToImage) -> None:
    calls = []
    handle = t2i.pipeline().unet.register_forward_hook(lambda *_: calls.append(1))
    flag = {"cancel": False}
    gen = t2i.generate("a boat", seed=0, steps=4, should_cancel=lambda: flag["cancel"])
    try:
        assert next(gen).phase == "load"
        assert next(gen).step == 1
        flag["cancel"] = True
        with pytest.raises(GenerationCancelled):
            next(gen)
    finally:
        handle.remove()
    assert len(calls) == 1  # steps 2-4 never ran
    assert not any(t.name == "text2image" for t in threading.enumerate())
    _, image = _drain(t2i.generate("a boat", seed=0, steps=1))  # usable again afterwards
    assert image.size == (64, 64)


def test_closing_the_generator_stops_the_worker(t2i: TextToImage) -> None:
    gen = t2i.generate("a tree", steps=5)
    next(gen), next(gen)
    gen.close()
    assert not any(t.name == "text2image" for t in threading.enumerate())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prompt_template": "a render"}, "{prompt}"),
        ({"steps": 0}, "steps"),
        ({"guidance": -1.0}, "guidance"),
        ({"size": 100}, "multiple of 8"),
        ({"device": "tpu"}, "device"),
        ({"precision": "int4"}, "precision"),
    ],
)
def test_bad_settings_named(tiny_folder: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(UserInputError, match=match):
        TextToImage(model=str(tiny_folder), **kwargs)


def test_empty_prompt(t2i: TextToImage) -> None:
    with pytest.raises(UserInputError, match="prompt"):
        next(t2i.generate("   "))


def test_missing_models_say_what_to_download(tiny_folder: Path) -> None:
    assert not is_installed("sd-turbo") and not is_installed(TEXT2IMAGE_DEFAULT["repo_id"])
    with pytest.raises(ModelNotInstalled) as info:
        _drain(TextToImage().generate("a cat"))
    assert info.value.names == ("sd-turbo",) and "sd-turbo" in str(info.value)
    with pytest.raises(ModelNotInstalled, match="nobody/nothing"):
        _drain(TextToImage(model="nobody/nothing").generate("a cat"))


def test_incomplete_folder_is_not_installed(tiny_folder: Path, tmp_path: Path) -> None:
    assert is_installed(str(tiny_folder)) and missing_parts(tiny_folder) == []
    broken = tmp_path / "broken"
    shutil.copytree(tiny_folder, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    shutil.rmtree(broken / "vae")
    assert missing_parts(broken) == ["unet/ weights", "vae/"]
    assert not is_installed(str(broken))
    (broken / "model_index.json").unlink()
    assert missing_parts(broken) == ["model_index.json"]


def test_found_in_model_store_and_hf_cache(tiny_folder: Path, tmp_path: Path) -> None:
    # The model store's folder for the default catalogue name...
    shutil.copytree(tiny_folder, tmp_path / "home" / "models" / "sd-turbo")
    assert is_installed("sd-turbo") and is_installed(TEXT2IMAGE_DEFAULT["repo_id"])
    default = TextToImage()  # SD-Turbo's settings: 2 steps, no guidance
    records, image = _drain(default.generate("a cat", seed=0))
    assert image.size == (64, 64) and records[-1].step == TEXT2IMAGE_DEFAULT["steps"]
    # ...and a Hugging Face cache snapshot of any repo id, found offline.
    repo = tmp_path / "hf-cache" / "models--someone--tiny-sd"
    shutil.copytree(tiny_folder, repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    assert is_installed("someone/tiny-sd") and not is_installed("someone/other")


def test_catalogue_entry_registered() -> None:
    from engine.checkpoints import get_entry

    entry = get_entry(TEXT2IMAGE_DEFAULT["name"])
    assert entry.kind == "text2image" and entry.files
    names = [f.filename for f in entry.files]
    assert names[0] == "unet/diffusion_pytorch_model.fp16.safetensors"
    assert "model_index.json" in names and all(
        TEXT2IMAGE_DEFAULT["revision"] in f.mirrors[0] for f in entry.files
    )
    assert 2.4e9 < entry.size < 2.8e9


def test_incomplete_local_folder_named_in_the_error(tiny_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "half"
    shutil.copytree(tiny_folder, broken)
    shutil.rmtree(broken / "text_encoder")
    with pytest.raises(UserInputError, match=r"missing: text_encoder/"):
        _drain(TextToImage(model=str(broken)).generate("a cat"))
