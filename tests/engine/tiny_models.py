"""Tiny randomly initialised CLIP and text-to-image models, built in code (no downloads)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from engine.models import build_model


def tiny_clip_config(*, width: int = 32, patch_size: int = 14, layers: int = 2) -> dict:
    """open_clip config with ViT-L/14's structure (QuickGELU, 224 px) but tiny widths."""
    return {
        "embed_dim": 16,
        "quick_gelu": True,
        "vision_cfg": {
            "image_size": 224,
            "layers": layers,
            "width": width,
            "head_width": 16,
            "patch_size": patch_size,
        },
        # The stock CLIP BPE tokenizer is used, so the vocabulary must stay full size.
        "text_cfg": {
            "context_length": 77,
            "vocab_size": 49408,
            "width": 16,
            "heads": 2,
            "layers": 1,
        },
    }


def tiny_clip_name(*, width: int = 32, patch_size: int = 14, layers: int = 2) -> str:
    """The open_clip model name tiny_open_clip registers (for load_clip(..., model_name=))."""
    return f"pointe-studio-tiny-clip-w{width}-p{patch_size}-l{layers}"


def tiny_open_clip(
    seed: int = 0, *, width: int = 32, patch_size: int = 14, layers: int = 2
) -> torch.nn.Module:
    """A random open_clip CLIP; its grid embedding is [B, width, (224 // patch_size) ** 2]."""
    import open_clip

    name = tiny_clip_name(width=width, patch_size=patch_size, layers=layers)
    if open_clip.get_model_config(name) is None:
        # The public way to register an architecture: a JSON file named after the model.
        folder = Path(tempfile.mkdtemp(prefix="tiny-open-clip-"))
        config = tiny_clip_config(width=width, patch_size=patch_size, layers=layers)
        (folder / f"{name}.json").write_text(json.dumps(config), encoding="utf-8")
        open_clip.add_model_config(folder)
    model = open_clip.create_model(name, pretrained=None)
    # open_clip initialises some tensors to constants (zero biases, unit LayerNorms); re-draw
    # every parameter so a test that mixes up tokens or layers sees different numbers.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=gen) * 0.05
            is_ln_scale = ".ln_" in f".{pname}" and pname.endswith("weight")
            param.copy_(noise + (1.0 if is_ln_scale else 0.0))
    return model.eval()


def _byte_chars() -> list[str]:
    """GPT-2/CLIP's reversible byte -> printable character table, in CLIP's order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += range(ord("®"), ord("ÿ") + 1)
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in keep] + [chars[b] for b in range(256) if b not in keep]


def _write_tiny_tokenizer(folder: Path) -> None:
    """A byte-level CLIP BPE vocabulary with no merges: every character is its own token."""
    chars = _byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": i + len(chars) for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")


def tiny_sd_pipeline(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny random StableDiffusionPipeline (64x64 images) to `folder` and return it."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    tok_dir = folder.parent / (folder.name + "-tokenizer-src")
    _write_tiny_tokenizer(tok_dir)
    # from_pretrained reads vocab.json + merges.txt under transformers 4 and 5 alike.
    tokenizer = CLIPTokenizer.from_pretrained(tok_dir, model_max_length=77)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=16,  # 64 px images / the VAE's factor of 4
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(4, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


TINY_RANDOM_MODEL = "tiny-random"


def tiny_random_stages(route, request, *, store=None, prepared=None):
    """Two tiny untrained networks (256 + 768 points): exercises every path in seconds."""
    from engine.stages import build_stage

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        base = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=256)
        up = build_model(
            "upsample",
            width=32,
            layers=1,
            heads=2,
            n_ctx=768,
            cond_ctx=256,
            clip_dim=16,
            clip_grid_tokens=4,
        )
        for m in (base, up):
            torch.nn.init.normal_(m.output_proj.weight, std=0.3)
        emb = torch.nn.functional.normalize(torch.randn(1, 768), dim=-1)
    stages = [
        build_stage(
            route.stage("base"),
            request,
            route=route.name,
            model=base,
            n_points=256,
            cond={"embeddings": emb},
        )
    ]
    if request.upsample:
        stages.append(
            build_stage(
                route.stage("upsample"),
                request,
                route=route.name,
                model=up,
                n_points=768,
                uses_low_res=True,
            )
        )
    return stages, []


def register_tiny_route() -> None:
    """Make model "tiny-random" runnable through the real pipeline (official text settings)."""
    from engine.routes import ROUTES, RouteSpec, register_route

    text = ROUTES["official-text"]
    register_route(
        RouteSpec(
            name=TINY_RANDOM_MODEL,
            label="Tiny random (tests)",
            description="Untrained tiny networks for tests.",
            inputs="text",
            conditioning="clip-text",
            base_models=(TINY_RANDOM_MODEL,),
            upsampler="tiny-upsample",
            stages=text.stages,
            builder="tests.engine.tiny_models:tiny_random_stages",
        )
    )
