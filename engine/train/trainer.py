"""Joint training of the embedded text encoder and a small Point-E transformer (epsilon MSE)."""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.diffusion import ChannelScaling, NoiseSchedule
from engine.embedded import text_conditioning
from engine.fileio import atomic_path
from engine.models import build_model
from engine.models.text_encoder import TextEncoder, TextEncoderConfig
from engine.train.captions import vocabulary
from engine.train.dataset import make_batch, part_weights

log = logging.getLogger(__name__)

MODEL_NAME = "base40M-textvec"  # the official vector-conditioned class, shrunk
UPSAMPLER_ARCH = "UpsamplePointDiffusionTransformer"  # Point-E's upsampler class, no CLIP
SCHEDULE = "cosine"  # same schedule and channel scaling as the official base models


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Model sizes and optimisation settings; stored in every checkpoint."""

    width: int = 128  # diffusion transformer width
    layers: int = 4  # diffusion transformer blocks
    heads: int = 4  # attention heads
    enc_width: int = 64  # text encoder width
    enc_layers: int = 2  # text encoder blocks
    cond_dim: int = 128  # text vector size (the model's clip_dim)
    enc_mode: str = "transformer"  # text encoder kind (see TextEncoderConfig.mode)
    # (points, batch) cycled step by step: the transformer has no positional embedding, so it
    # is a set model; mixing sizes keeps it right at the 1,024 points it samples at.
    point_cycle: tuple[tuple[int, int], ...] = ((128, 64), (256, 32), (128, 64), (1024, 8))
    lr: float = 8e-4  # AdamW peak learning rate
    warmup: int = 100  # linear warm-up steps
    weight_decay: float = 0.01
    ema: float = 0.998  # EMA decay of the shipped weights
    grad_clip: float = 1.0
    cond_drop_prob: float = 0.1  # classifier-free dropout (zero text vector)
    token_cond: bool = True  # text vector as a prepended token (official) or added to points
    phrase_tokens: int = 0  # phrase vectors the points attend to (ModelConfig.phrase_tokens)
    # per-sample weight min(1 + 1/SNR(t), cap) on the epsilon MSE (1 = plain epsilon MSE).
    # Plain epsilon MSE barely rewards using the text: a set model reads a cloud's colour and
    # rough shape off its own noisy points except at high noise, where epsilon errors are tiny.
    # This is v-prediction's weighting, capped; it leaves the optimum unchanged.
    max_loss_weight: float = 20.0
    seed: int = 0
    # "base": text -> 1,024 points (model + text encoder); "upsampler": 1,024 -> 4,096 points,
    # conditioned on the low-res cloud only. The upsampler's point_cycle entries are
    # (all points, batch): a quarter of them are the low-res cloud, the rest are denoised.
    kind: str = "base"
    # data stream: 1 = the first model's (primitives, nine objects, a quarter objects);
    # 2 = fourteen objects with part captions, `composite_prob` of each batch objects
    generation: int = 1
    composite_prob: float = 0.25
    anneal_from: int = 0  # step where the linear learning-rate decay starts
    anneal_steps: int = 0  # length of that decay down to 5% of lr (0 = constant lr)
    # > 0: train only the noise levels with sigma <= max_sigma (model units). An upsampler
    # trained so starts from copies of the low-res points at that noise (StageSpec.start
    # "low_res"): its whole capacity goes to the local work of placing the new points.
    max_sigma: float = 0.0
    # > 0: weight each point's loss so every part of an object counts the same in total
    # (dataset.part_weights, each weight capped at this many times the main part's); 0 = off
    part_balance: float = 0.0


TINY = TrainConfig(
    width=32,
    layers=1,
    heads=2,
    enc_width=16,
    enc_layers=1,
    cond_dim=16,
    point_cycle=((64, 8),),
    lr=2e-3,
    warmup=2,
    ema=0.9,
)

# The built-in upsampler: small enough that 4,096 points cost a few seconds on two CPU cores
# (attention over 4,097 tokens dominates). It trains mostly on 256 + 768 points (a set model,
# like the base) and every fourth step at the full 1,024 + 3,072.
UPSAMPLER = TrainConfig(
    kind="upsampler",
    width=64,
    layers=3,
    heads=2,
    point_cycle=((1024, 16), (1024, 16), (1024, 16), (4096, 2)),
    lr=1e-3,
    ema=0.995,
    cond_drop_prob=0.0,
    max_loss_weight=30.0,
    generation=2,
    composite_prob=0.6,
    anneal_steps=2500,
)

TINY_UPSAMPLER = dataclasses.replace(
    UPSAMPLER, width=16, layers=1, point_cycle=((64, 4),), warmup=2, anneal_steps=0
)

PRESETS = {
    "embedded": TrainConfig(),
    "tiny": TINY,
    "upsampler": UPSAMPLER,
    "tiny-upsampler": TINY_UPSAMPLER,
}

UPSAMPLE_FACTOR = 4  # 1,024 -> 4,096 points: a quarter of every training cloud is the low-res


def build_upsampler(config: TrainConfig, low_res: int = 1024) -> nn.Module:
    """Point-E's UpsamplePointDiffusionTransformer at `config`'s size (official channel
    scaling, time token first, then the low-res points, then the points it denoises)."""
    from engine.models.config import ModelConfig

    return build_model(
        ModelConfig(
            arch=UPSAMPLER_ARCH,
            width=config.width,
            layers=config.layers,
            heads=config.heads,
            n_ctx=low_res * (UPSAMPLE_FACTOR - 1),
            cond_ctx=low_res,
        )
    )


def build_net(
    config: TrainConfig, vocab: list[str] | tuple[str, ...] | None = None
) -> nn.ModuleDict:
    """{"model": transformer, "encoder": text encoder}; state keys carry those prefixes.
    An upsampler run has no encoder: {"model": upsampler}."""
    if config.kind == "upsampler":
        return nn.ModuleDict({"model": build_upsampler(config)})
    model = build_model(
        MODEL_NAME,
        width=config.width,
        layers=config.layers,
        heads=config.heads,
        n_ctx=1024,
        clip_dim=config.cond_dim,
        cond_drop_prob=config.cond_drop_prob,
        token_cond=config.token_cond,
        phrase_tokens=config.phrase_tokens,
    )
    enc_cfg = TextEncoderConfig(
        vocab=tuple(vocab or vocabulary(config.generation)),
        width=config.enc_width,
        layers=config.enc_layers,
        heads=max(1, config.enc_width // 16),
        out_dim=config.cond_dim,
        mode=config.enc_mode,
    )
    return nn.ModuleDict({"model": model, "encoder": TextEncoder(enc_cfg)})


def set_points(model: nn.Module, n: int, low_res: int | None = None) -> None:
    """Let the set model accept n points (n_ctx is only an input check in the transformer),
    and an upsampler `low_res` conditioning points."""
    changes: dict[str, int] = {}
    if model.config.n_ctx != n:
        changes["n_ctx"] = n
    if low_res is not None and model.config.cond_ctx != low_res:
        changes["cond_ctx"] = low_res
    if changes:
        model.config = dataclasses.replace(model.config, **changes)


def loss_on_batch(
    net: nn.ModuleDict,
    schedule: NoiseSchedule,
    captions: list[str],
    x_data: torch.Tensor,
    gen: torch.Generator,
    max_loss_weight: float = 1.0,
    point_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Epsilon MSE over channels 0-5 at uniformly drawn integer steps, weighted per sample by
    min(1 + 1/SNR, max_loss_weight) (see TrainConfig.max_loss_weight).

    Channels 6-11 (learned variance) are left out of the loss: their output weights start at
    zero and get no gradient, so they stay zero (the Karras samplers never read them)."""
    model = net["model"]
    cond = text_conditioning(net["encoder"], model, captions)  # embeddings (B, D), phrases
    set_points(model, x_data.shape[2])
    return diffusion_loss(
        lambda xt, t: model(xt, t, **cond),
        schedule,
        x_data,
        gen,
        max_loss_weight,
        point_weight=point_weight,
    )


def upsampler_loss_on_batch(
    net: nn.ModuleDict,
    schedule: NoiseSchedule,
    x_data: torch.Tensor,
    gen: torch.Generator,
    max_loss_weight: float = 1.0,
    max_sigma: float = 0.0,
) -> torch.Tensor:
    """The upsampler's loss: the first quarter of each (uniformly drawn, unordered) cloud is
    the clean low-res condition in data units, the rest is what it learns to denoise."""
    model = net["model"]
    n = x_data.shape[2]
    low = n // UPSAMPLE_FACTOR
    low_res, x_new = x_data[:, :, :low], x_data[:, :, low:]
    set_points(model, n - low, low)
    return diffusion_loss(
        lambda xt, t: model(xt, t, low_res), schedule, x_new, gen, max_loss_weight, max_sigma
    )


def diffusion_loss(
    predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    schedule: NoiseSchedule,
    x_data: torch.Tensor,
    gen: torch.Generator,
    max_loss_weight: float = 1.0,
    max_sigma: float = 0.0,
    point_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Weighted epsilon MSE of `predict(x_t, t)` (see loss_on_batch) on data-space clouds,
    at steps drawn uniformly from all of them, or from those with sigma <= max_sigma;
    `point_weight` (B, N), mean 1 per cloud, weights each point's error."""
    x0 = ChannelScaling().scale(x_data)  # (B, 6, N) model space
    b = x0.shape[0]
    t = torch.randint(0, steps_up_to(schedule, max_sigma), (b,), generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    xt = schedule.q_sample(x0, t, noise)
    eps = predict(xt, t)[:, :6]
    per_point = ((eps - noise) ** 2).mean(dim=1)  # (B, N)
    if point_weight is not None:
        per_point = per_point * point_weight
    per_sample = per_point.mean(dim=1)  # (B,)
    if max_loss_weight <= 1.0:
        return per_sample.mean()
    abar = torch.from_numpy(schedule.alphas_cumprod).to(torch.float32)[t]
    weight = (1.0 + (1.0 - abar) / abar).clamp(max=max_loss_weight)  # 1 + 1/SNR
    return (per_sample * weight).mean()


def steps_up_to(schedule: NoiseSchedule, max_sigma: float) -> int:
    """How many of the schedule's steps have sigma <= max_sigma (all of them for 0; >= 1)."""
    if max_sigma <= 0:
        return schedule.timesteps
    return max(1, int((schedule.sqrt_recipm1_alphas_cumprod <= max_sigma).sum()))


def save_atomic(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: Path) -> dict:
    """A training checkpoint (tensors and plain values only: loaded with weights_only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


@dataclass
class TrainState:
    config: TrainConfig
    net: nn.ModuleDict
    ema: nn.ModuleDict
    opt: torch.optim.Optimizer
    step: int = 0
    seconds: float = 0.0  # wall time spent training so far (across resumes)


def new_state(config: TrainConfig) -> TrainState:
    torch.manual_seed(config.seed)
    net = build_net(config).train()
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    opt = torch.optim.AdamW(
        net.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.99)
    )
    return TrainState(config, net, ema, opt)


def state_from_checkpoint(ckpt: dict) -> TrainState:
    config = TrainConfig(**{k: as_tuples(v) for k, v in ckpt["config"].items()})
    state = new_state(config)
    state.net.load_state_dict(ckpt["net"])
    state.ema.load_state_dict(ckpt["ema"])
    state.opt.load_state_dict(ckpt["opt"])
    state.step, state.seconds = int(ckpt["step"]), float(ckpt["seconds"])
    return state


def as_tuples(v: object) -> object:
    return tuple(as_tuples(x) for x in v) if isinstance(v, list | tuple) else v


def checkpoint_dict(state: TrainState) -> dict:
    return {
        "config": dataclasses.asdict(state.config),
        "net": state.net.state_dict(),
        "ema": state.ema.state_dict(),
        "opt": state.opt.state_dict(),
        "step": state.step,
        "seconds": state.seconds,
        "vocab": list(state.net["encoder"].config.vocab) if "encoder" in state.net else [],
    }


def use_additive_cond(state: TrainState) -> None:
    """Switch a token-conditioned run to adding the text vector to every point token.

    Same weights and state-dict keys; clip_embed restarts from zero so the switch does not
    disturb what the network already learned (its gradient is not zero, so it learns)."""
    state.config = dataclasses.replace(state.config, token_cond=False)
    for net in (state.net, state.ema):
        model = net["model"]
        model.config = dataclasses.replace(model.config, token_cond=False)
        with torch.no_grad():
            model.clip_embed.weight.zero_()
            model.clip_embed.bias.zero_()


def use_bag_encoder(state: TrainState, lr: float) -> None:
    """Replace a collapsed transformer text encoder by a bag-of-words one (fresh, seeded);
    the optimizer restarts (its parameter list changed) at learning rate `lr`."""
    state.config = dataclasses.replace(state.config, enc_mode="bag", lr=lr)
    torch.manual_seed(state.config.seed + 1)
    fresh = build_net(state.config, state.net["encoder"].config.vocab)["encoder"]
    state.net["encoder"] = fresh.train()
    state.ema["encoder"] = copy.deepcopy(fresh).eval().requires_grad_(False)
    cfg = state.config
    state.opt = torch.optim.AdamW(
        state.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99)
    )


def use_vocabulary(state: TrainState, vocab: list[str] | tuple[str, ...]) -> None:
    """Give the bag text encoder a larger vocabulary: every known word keeps its learned rows
    (the tables are indexed by sorted word, so they are copied by word), each new word starts
    from a small seeded random vector. The optimizer restarts (its parameters changed)."""
    old = state.net["encoder"]
    if tuple(vocab) == tuple(old.config.vocab):
        return
    if old.config.mode != "bag":
        raise ValueError("only the bag-of-words encoder can grow its vocabulary")
    for net in (state.net, state.ema):
        enc = net["encoder"]
        torch.manual_seed(state.config.seed + 2)  # the same new rows in both
        fresh = build_net(state.config, vocab)["encoder"]
        with torch.no_grad():
            for table in ("token_embed", "part_embed"):
                new_w, old_w = getattr(fresh, table).weight, getattr(enc, table).weight
                new_w.mul_(0.1)  # new words start small beside the trained ones
                for i, word in enumerate(enc.config.vocab):
                    new_w[vocab.index(word) + 1] = old_w[i + 1]
        net["encoder"] = fresh.train(net is state.net)
        if net is state.ema:
            fresh.requires_grad_(False)
    restart_optimizer(state)


def grow_layers(state: TrainState, layers: int) -> None:
    """Deepen the diffusion transformer to `layers` blocks without changing what it computes.

    The new blocks go after the trained ones with both output projections (attention's and
    the MLP's) at zero, so each starts as the identity: the grown network's predictions are
    the trained network's, and training decides what the extra depth adds. Same new blocks
    in the trained and EMA weights; the optimizer restarts (its parameters changed)."""
    from engine.models.layers import ResidualBlock

    if state.config.kind != "base":
        raise ValueError("only the text model can grow its layers")
    old = state.config.layers
    if layers < old:
        raise ValueError(f"cannot shrink the transformer from {old} to {layers} blocks")
    if layers == old:
        return
    state.config = dataclasses.replace(state.config, layers=layers)
    torch.manual_seed(state.config.seed + 3)
    blocks = state.net["model"].backbone.resblocks
    cfg = state.net["model"].config
    for _ in range(layers - old):
        block = ResidualBlock(cfg.width, cfg.heads, cfg.init_scale)
        with torch.no_grad():
            for proj in (block.attn.c_proj, block.mlp.c_proj):
                proj.weight.zero_()
                proj.bias.zero_()
        blocks.append(block)
    ema_blocks = state.ema["model"].backbone.resblocks
    for block in blocks[old:]:
        ema_blocks.append(copy.deepcopy(block).eval().requires_grad_(False))
    if cfg.phrase_tokens:  # each new block gets its phrase attention, at zero too
        from engine.models.transformer import PhraseAttention

        for _ in range(layers - old):
            adapter = PhraseAttention(cfg.width, cfg.heads, cfg.init_scale)
            state.net["model"].phrase_attn.append(adapter)
            state.ema["model"].phrase_attn.append(
                copy.deepcopy(adapter).eval().requires_grad_(False)
            )
    for net in (state.net, state.ema):
        net["model"].config = dataclasses.replace(net["model"].config, layers=layers)
    restart_optimizer(state)


def use_phrase_attention(state: TrainState, phrases: int = 2) -> None:
    """Give the text model phrase attention (ModelConfig.phrase_tokens) without changing what
    it computes: every block's attention to the phrase vectors has its output projection at
    zero, so the new network's predictions are the old one's until training moves them.
    The same new weights in the trained and EMA networks; the optimizer restarts."""
    from engine.models.transformer import CLIPImagePointDiffusionTransformer

    if state.config.kind != "base" or state.config.enc_mode != "bag":
        raise ValueError("phrase attention needs the text model with the bag-of-words encoder")
    if state.config.phrase_tokens == phrases:
        return
    if state.config.phrase_tokens:
        raise ValueError("the model already has phrase attention of another size")
    state.config = dataclasses.replace(state.config, phrase_tokens=phrases)
    torch.manual_seed(state.config.seed + 5)
    fresh = CLIPImagePointDiffusionTransformer(
        dataclasses.replace(state.net["model"].config, phrase_tokens=phrases)
    )  # its phrase weights go to both networks; the rest comes from each one
    for net in (state.net, state.ema):
        model = copy.deepcopy(fresh)
        model.config = dataclasses.replace(net["model"].config, phrase_tokens=phrases)
        missing, unexpected = model.load_state_dict(net["model"].state_dict(), strict=False)
        if unexpected or not all(k.startswith("phrase_") for k in missing):
            raise ValueError(f"not a model phrase attention extends: {unexpected or missing}")
        model.train(net is state.net).requires_grad_(net is state.net)
        net["model"] = model
    restart_optimizer(state)


def restart_optimizer(state: TrainState, from_ema: bool = False) -> None:
    """A fresh AdamW at the current settings; from_ema: the trained weights restart from the
    EMA weights (what was shipped), so a new data stream starts from the best model."""
    if from_ema:
        state.net.load_state_dict(state.ema.state_dict())
    cfg = state.config
    state.opt = torch.optim.AdamW(
        state.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99)
    )


def state_from_export(folder: Path, **changes: object) -> TrainState:
    """A training state whose weights (trained and EMA) are an exported model's, at the step
    its JSON records: how a new phase continues from the shipped model without its optimizer.
    The sizes come from the JSON; `changes` set the other TrainConfig fields."""
    import json

    from engine.embedded import read_weights

    meta = json.loads((folder / "embedded.json").read_text(encoding="utf-8"))
    vocab = meta["encoder"]["vocab"]
    m, e = meta["model"], meta["encoder"]
    config = TrainConfig(
        width=m["width"],
        layers=m["layers"],
        heads=m["heads"],
        cond_dim=m["clip_dim"],
        token_cond=bool(m["token_cond"]),
        phrase_tokens=int(m.get("phrase_tokens", 0)),
        enc_mode=e["mode"],
        enc_width=e["width"],
        enc_layers=e["layers"],
        **{"seed": int(meta["training"]["seed"]), **changes},
    )
    net = build_net(config, vocab)
    parts = read_weights(folder, "embedded.safetensors", ("model", "encoder"), "built-in model")
    net["model"].load_state_dict(parts["model"])
    net["encoder"].load_state_dict(parts["encoder"])
    state = new_state(config)
    state.net, state.ema = net.train(), copy.deepcopy(net).eval().requires_grad_(False)
    restart_optimizer(state)
    state.step = int(meta["training"]["steps"])
    state.seconds = float(meta["training"]["minutes"]) * 60
    return state


def lr_at(config: TrainConfig, step: int) -> float:
    """Linear warm-up, constant, then (when configured) a linear decay to 5%."""
    lr = config.lr * min(1.0, (step + 1) / max(config.warmup, 1))
    if config.anneal_steps > 0 and step >= config.anneal_from:
        lr *= max(0.05, 1.0 - (step - config.anneal_from) / config.anneal_steps)
    return lr


def train(
    state: TrainState,
    out_dir: Path,
    *,
    max_steps: int | None = None,
    minutes: float | None = None,
    checkpoint_minutes: float = 4.0,
    on_log: Callable[[dict], None] | None = None,
    log_every: int = 10,
) -> TrainState:
    """Train until max_steps (total) or `minutes` of wall time pass, checkpointing to
    out_dir/last.pt every few minutes (atomic), and once more at the end."""
    cfg = state.config
    schedule = NoiseSchedule.from_name(SCHEDULE)
    start = time.monotonic()
    last_ckpt = start
    ema_params = list(state.ema.parameters())
    net_params = list(state.net.parameters())
    state.net.train()
    running = None
    while max_steps is None or state.step < max_steps:
        if minutes is not None and time.monotonic() - start > minutes * 60:
            break
        t0 = time.monotonic()
        n_points, batch = cfg.point_cycle[state.step % len(cfg.point_cycle)]
        captions, x, _, slots = make_batch(
            cfg.seed, state.step, batch, n_points, cfg.composite_prob, cfg.generation
        )
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + state.step)
        torch.manual_seed(cfg.seed * 1_000_003 + state.step)  # the model's cond dropout draw
        for group in state.opt.param_groups:
            group["lr"] = lr_at(cfg, state.step)
        if cfg.kind == "upsampler":
            loss = upsampler_loss_on_batch(
                state.net, schedule, x, gen, cfg.max_loss_weight, cfg.max_sigma
            )
        else:
            weight = part_weights(slots, cfg.part_balance) if cfg.part_balance > 0 else None
            loss = loss_on_batch(state.net, schedule, captions, x, gen, cfg.max_loss_weight, weight)
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net_params, cfg.grad_clip)
        state.opt.step()
        decay = min(cfg.ema, (1 + state.step) / (10 + state.step))
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, [p.detach() for p in net_params], 1 - decay)
        state.step += 1
        now = time.monotonic()
        state.seconds += now - t0
        value = float(loss.detach())
        running = value if running is None else 0.98 * running + 0.02 * value
        if on_log and (state.step % log_every == 0 or state.step == 1):
            on_log(
                {
                    "step": state.step,
                    "loss": value,
                    "avg": running,
                    "points": n_points,
                    "sec": now - t0,
                    "elapsed_min": state.seconds / 60,
                }
            )
        if now - last_ckpt > checkpoint_minutes * 60:
            save_atomic(checkpoint_dict(state), out_dir / "last.pt")
            last_ckpt = now
    save_atomic(checkpoint_dict(state), out_dir / "last.pt")
    state.net.eval()
    return state


def describe(state: TrainState) -> str:
    n = sum(p.numel() for p in state.net["model"].parameters())
    if "encoder" not in state.net:
        return f"upsampler {n / 1e6:.3f} M params, step {state.step}"
    e = sum(p.numel() for p in state.net["encoder"].parameters())
    return f"model {n / 1e6:.2f} M params, encoder {e / 1e6:.3f} M, step {state.step}"
