"""Frozen OpenAI CLIP (through open_clip): text/image vectors and the patch grid Point-E needs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from engine.errors import CheckpointError, ModelNotInstalled, UserInputError

log = logging.getLogger(__name__)

#: open_clip architecture of OpenAI's ViT-L/14 (its weights were trained with QuickGELU).
PRODUCTION_MODEL = "ViT-L-14-quickgelu"
#: CLIP's normalisation constants (spec section 12).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: Point-E's stand-in for a missing image: a 64x64 black picture.
MISSING_IMAGE_SIZE = 64

ImageLike = Image.Image | np.ndarray | torch.Tensor | None


def to_pil(obj: ImageLike) -> Image.Image:
    """Point-E's conversion: arrays/tensors (HWC, values 0..255) -> uint8 PIL; None -> black 64²."""
    if obj is None:
        return Image.new("RGB", (MISSING_IMAGE_SIZE, MISSING_IMAGE_SIZE))
    if isinstance(obj, Image.Image):
        return obj
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if obj.ndim not in (2, 3) or (obj.ndim == 3 and obj.shape[2] not in (1, 3, 4)):
            raise UserInputError(
                f"An image array must be (H, W) or (H, W, 1|3|4), got shape {tuple(obj.shape)}."
            )
        arr = obj[..., 0] if obj.ndim == 3 and obj.shape[2] == 1 else obj
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    raise TypeError(f"expected a PIL image, numpy array, tensor or None, got {type(obj).__name__}")


def clip_transform(image_size: int) -> Callable[[Image.Image], torch.Tensor]:
    """CLIP's own preprocessing: shorter side -> size (bicubic), centre crop, RGB, normalise."""
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize(image_size, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(image_size),
            lambda im: im.convert("RGB"),
            transforms.ToTensor(),
            transforms.Normalize(CLIP_MEAN, CLIP_STD),
        ]
    )


class FrozenCLIP:
    """An open_clip CLIP in eval mode without gradients, returning Point-E's conditioning.

    Runs in the dtype its weights have (load_clip gives fp16 on CUDA, like the reference);
    every output is float32. The pipeline calls it once per stage and reuses the result."""

    def __init__(self, model: nn.Module, *, tokenizer: Callable[..., Any] | None = None) -> None:
        if not hasattr(model, "visual") or not hasattr(model, "encode_text"):
            raise TypeError(f"expected an open_clip CLIP model, got {type(model).__name__}")
        self.model = model.eval().requires_grad_(False)
        visual = model.visual
        size = visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)
        self.context_length = int(getattr(model, "context_length", 77))
        if tokenizer is None:
            from open_clip.tokenizer import SimpleTokenizer

            tokenizer = SimpleTokenizer(context_length=self.context_length)
        self.tokenizer = tokenizer
        self._transform = clip_transform(self.image_size)

    @property
    def device(self) -> torch.device:
        return self.model.visual.conv1.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.visual.conv1.weight.dtype

    @property
    def grid_channels(self) -> int:
        """Width of the vision tower: the C of embed_images_grid's [B, C, P] (1024 for L/14)."""
        return int(self.model.visual.conv1.out_channels)

    @property
    def grid_tokens(self) -> int:
        """Patch tokens: the P of embed_images_grid's [B, C, P] (256 for L/14 at 224 px)."""
        patch = self.model.visual.conv1.kernel_size[0]
        return (self.image_size // patch) ** 2

    # -- text -----------------------------------------------------------------------------------
    def tokenize(self, prompts: Sequence[str]) -> torch.Tensor:
        """CLIP BPE ids (B, context); longer prompts are cut with end-of-text kept, as CLIP does."""
        if isinstance(prompts, str) or not isinstance(prompts, Sequence):
            raise TypeError(f"prompts must be a list of strings, got {type(prompts).__name__}")
        if not prompts:
            raise UserInputError("No prompt given.")
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str):
                raise TypeError(f"prompts[{i}] must be a string, got {type(prompt).__name__}")
            if not prompt.strip():
                raise UserInputError("The prompt is empty: describe the object, e.g. “a red cube”.")
            encode = getattr(self.tokenizer, "encode", None)
            if encode is not None:
                n_tokens = len(encode(prompt)) + 2  # + start and end of text
                if n_tokens > self.context_length:
                    log.warning(
                        "prompt has %d CLIP tokens; only the first %d are used: %r",
                        n_tokens,
                        self.context_length,
                        prompt[:60] + "…",
                    )
        return self.tokenizer(list(prompts))

    @torch.no_grad()
    def embed_text(self, prompts: Sequence[str]) -> torch.Tensor:
        """L2-normalised text vectors (B, D) float32, for base40M-textvec."""
        tokens = self.tokenize(prompts).to(self.device)  # (B, 77)
        feats = self.model.encode_text(tokens).float()  # (B, D)
        return feats / torch.linalg.norm(feats, dim=-1, keepdim=True)

    # -- images ---------------------------------------------------------------------------------
    def preprocess(self, images: Sequence[ImageLike]) -> torch.Tensor:
        """(B, 3, S, S) normalised pixels on the model's device and dtype."""
        if isinstance(images, Image.Image | np.ndarray | torch.Tensor) or not isinstance(
            images, Sequence
        ):
            raise TypeError(f"images must be a list of images, got {type(images).__name__}")
        if not images:
            raise UserInputError("No image given.")
        batch = torch.stack([self._transform(to_pil(im)) for im in images])
        return batch.to(device=self.device, dtype=self.dtype)

    @torch.no_grad()
    def embed_images(self, images: Sequence[ImageLike]) -> torch.Tensor:
        """L2-normalised image vectors (B, D) float32 (class token -> ln_post -> projection)."""
        feats = self.model.encode_image(self.preprocess(images)).float()  # (B, D)
        return feats / torch.linalg.norm(feats, dim=-1, keepdim=True)

    @torch.no_grad()
    def embed_images_grid(self, images: Sequence[ImageLike]) -> torch.Tensor:
        """Patch grid (B, C, P) float32: last block's tokens BEFORE ln_post, class token dropped.

        For ViT-L/14 this is (B, 1024, 256), what the grid models (base40M/300M/1B, upsample)
        read; no projection and no normalisation (the network's own LayerNorm handles scale)."""
        x = self.preprocess(images)  # (B, 3, S, S)
        visual = self.model.visual
        if hasattr(visual, "forward_intermediates"):
            out = visual.forward_intermediates(
                x, indices=1, output_fmt="NLC", intermediates_only=True
            )
            tokens = out["image_intermediates"][-1]  # (B, P, C), class token already removed
        else:  # open_clip before forward_intermediates existed
            tokens = _vision_tokens_manual(visual, x)[:, 1:]
        return tokens.permute(0, 2, 1).float().contiguous()  # (B, C, P)


def _vision_tokens_manual(visual: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """All 1 + P tokens after the last residual block (pre-ln_post), as spec section 12 says."""
    x = visual.conv1(x)  # (B, C, g, g)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # (B, P, C), row-major patches
    cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)  # (B, 1, C)
    x = torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype)  # (B, 1 + P, C)
    x = visual.ln_pre(x)
    transformer = visual.transformer
    if not getattr(transformer, "batch_first", True):
        return transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
    return transformer(x)


def load_clip(
    path: Path | str | None,
    device: str | torch.device = "cpu",
    *,
    model_name: str = PRODUCTION_MODEL,
) -> FrozenCLIP:
    """OpenAI ViT-L/14 from a local open_clip weights file (.safetensors, or a weights-only .bin).

    fp16 on CUDA (LayerNorms kept in float32, as OpenAI's clip.load does), float32 elsewhere.
    path=None builds randomly initialised weights: only for tests and benchmarks."""
    import open_clip

    device = torch.device(device)
    precision = "fp16" if device.type == "cuda" else "fp32"
    if path is None:
        log.warning("CLIP %s built with RANDOM weights (no file given)", model_name)
        pretrained = None
    else:
        path = Path(path)
        if not path.is_file():
            from engine.checkpoints.catalog import CLIP_NAME

            raise ModelNotInstalled([CLIP_NAME])
        pretrained = str(path)
    try:
        model = open_clip.create_model(
            model_name, pretrained=pretrained, precision=precision, device=device
        )
    except Exception as exc:  # safetensors/torch raise many types for a damaged file
        raise CheckpointError(
            f"Could not load the CLIP weights in {path}: {exc}. Verify or re-download the model "
            "in Models."
        ) from exc
    tokenizer = open_clip.get_tokenizer(model_name)
    return FrozenCLIP(model, tokenizer=tokenizer)


def register_model_config(config_path: Path | str | None) -> None:
    """Make a custom open_clip architecture (a JSON file named after the model) loadable."""
    if config_path:
        import open_clip

        open_clip.add_model_config(Path(config_path))


def clip_options(overrides: dict) -> tuple[str, Path | None]:
    """(open_clip model name, its JSON config or None) from the store's CLIP overrides."""
    config = overrides.get("model_config")
    return str(overrides.get("model_name", PRODUCTION_MODEL)), Path(config) if config else None


def open_clip_layout(model_name: str, config_path: Path | str | None = None) -> dict:
    """Key -> shape of an open_clip model, built on the meta device (no memory, no download)."""
    import open_clip

    register_model_config(config_path)
    config = open_clip.get_model_config(model_name)
    if config is None:
        raise ValueError(f"unknown open_clip model {model_name!r}")
    with torch.device("meta"):  # create_model would try to move meta tensors
        model = open_clip.model.CLIP(**config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}
