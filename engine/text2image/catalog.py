"""The default text-to-image model (SD-Turbo) and its entry in the model store's catalogue."""

from __future__ import annotations

from typing import Any

#: Catalogue name of the default model (what `models download` and the Models dialog show).
DEFAULT_NAME = "sd-turbo"
_REPO = "stabilityai/sd-turbo"
#: Pinned revision, so the files (and the recorded hashes) never change under the user.
_REVISION = "b261bac6fd2cf515557d5d0707481eafa0485ec2"
_MB = 1_000_000

#: Asks for what Point-E was trained on: one object, centred, on plain white, rendered.
DEFAULT_PROMPT_TEMPLATE = (
    "a 3D render of {prompt}, a single object, centered, full view, "
    "plain white background, soft studio lighting"
)
DEFAULT_NEGATIVE_PROMPT = (
    "multiple objects, cropped, cut off, busy background, scenery, text, watermark, frame, blurry"
)

#: Everything the app and the model store need to know about the default model. See
#: resources/model_cards/text2image.md for why this one.
TEXT2IMAGE_DEFAULT: dict[str, Any] = {
    "name": DEFAULT_NAME,
    "repo_id": _REPO,
    "revision": _REVISION,
    "variant": "fp16",  # only the half-precision files are fetched (2.6 GB instead of 5.2)
    "size_bytes": 2_590 * _MB,
    "licence": "Stability AI Community License (free for research, non-commercial use and "
    "organisations under USD 1M yearly revenue)",
    "licence_url": f"https://huggingface.co/{_REPO}/blob/main/LICENSE.md",
    "vram_hint": "≈3 GB (fp16)",
    "resolution": 512,
    "steps": 2,  # distilled for 1-4 steps
    "guidance": 0.0,  # trained without classifier-free guidance (negative prompt unused at 0)
    # Files as served, relative to the repository root, with approximate sizes in bytes.
    "files": (
        ("model_index.json", 616),
        ("scheduler/scheduler_config.json", 1_000),
        ("tokenizer/merges.txt", 525_000),
        ("tokenizer/special_tokens_map.json", 500),
        ("tokenizer/tokenizer_config.json", 800),
        ("tokenizer/vocab.json", 1_060_000),
        ("text_encoder/config.json", 700),
        ("text_encoder/model.fp16.safetensors", 681 * _MB),
        ("unet/config.json", 1_900),
        ("unet/diffusion_pytorch_model.fp16.safetensors", 1_732 * _MB),
        ("vae/config.json", 700),
        ("vae/diffusion_pytorch_model.fp16.safetensors", 167 * _MB),
    ),
    "params": 1_290_000_000,
}


def _entries() -> tuple[Any, ...]:
    from engine.checkpoints.catalog import ModelEntry, ModelFile

    info = TEXT2IMAGE_DEFAULT
    mirror = f"https://huggingface.co/{info['repo_id']}/resolve/{info['revision']}/"
    # The weights go first: the store treats files[0] as "the" model file.
    files = sorted(info["files"], key=lambda f: not f[0].startswith("unet/diffusion"))
    return (
        ModelEntry(
            name=info["name"],
            kind="text2image",
            files=tuple(ModelFile(filename=n, size=s, mirrors=(mirror,)) for n, s in files),
            purpose="text → picture (SD-Turbo, 1-4 steps) for text → picture → 3D",
            licence=info["licence"],
            params=info["params"],
            vram_hint=info["vram_hint"],
        ),
    )


def __getattr__(name: str) -> Any:
    # Read by engine.checkpoints.catalog; built lazily so importing this module stays cheap and
    # free of import cycles.
    if name == "CATALOG_ENTRIES":
        return _entries()
    raise AttributeError(name)
