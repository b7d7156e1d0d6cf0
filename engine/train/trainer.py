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
from engine.fileio import atomic_path
from engine.models import build_model
from engine.models.text_encoder import TextEncoder, TextEncoderConfig
from engine.train.captions import vocabulary
from engine.train.dataset import make_batch

log = logging.getLogger(__name__)

MODEL_NAME = "base40M-textvec"  # the official vector-conditioned class, shrunk
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
    # per-sample weight min(1 + 1/SNR(t), cap) on the epsilon MSE (1 = plain epsilon MSE).
    # Plain epsilon MSE barely rewards using the text: a set model reads a cloud's colour and
    # rough shape off its own noisy points except at high noise, where epsilon errors are tiny.
    # This is v-prediction's weighting, capped; it leaves the optimum unchanged.
    max_loss_weight: float = 20.0
    seed: int = 0
    anneal_from: int = 0  # step where the linear learning-rate decay starts
    anneal_steps: int = 0  # length of that decay down to 5% of lr (0 = constant lr)


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

PRESETS = {"embedded": TrainConfig(), "tiny": TINY}


def build_net(
    config: TrainConfig, vocab: list[str] | tuple[str, ...] | None = None
) -> nn.ModuleDict:
    """{"model": transformer, "encoder": text encoder}; state keys carry those prefixes."""
    model = build_model(
        MODEL_NAME,
        width=config.width,
        layers=config.layers,
        heads=config.heads,
        n_ctx=1024,
        clip_dim=config.cond_dim,
        cond_drop_prob=config.cond_drop_prob,
        token_cond=config.token_cond,
    )
    enc_cfg = TextEncoderConfig(
        vocab=tuple(vocab or vocabulary()),
        width=config.enc_width,
        layers=config.enc_layers,
        heads=max(1, config.enc_width // 16),
        out_dim=config.cond_dim,
        mode=config.enc_mode,
    )
    return nn.ModuleDict({"model": model, "encoder": TextEncoder(enc_cfg)})


def set_points(model: nn.Module, n: int) -> None:
    """Let the set model accept n points (n_ctx is only an input check in the transformer)."""
    if model.config.n_ctx != n:
        model.config = dataclasses.replace(model.config, n_ctx=n)


def loss_on_batch(
    net: nn.ModuleDict,
    schedule: NoiseSchedule,
    captions: list[str],
    x_data: torch.Tensor,
    gen: torch.Generator,
    max_loss_weight: float = 1.0,
) -> torch.Tensor:
    """Epsilon MSE over channels 0-5 at uniformly drawn integer steps, weighted per sample by
    min(1 + 1/SNR, max_loss_weight) (see TrainConfig.max_loss_weight).

    Channels 6-11 (learned variance) are left out of the loss: their output weights start at
    zero and get no gradient, so they stay zero (the Karras samplers never read them)."""
    model = net["model"]
    x0 = ChannelScaling().scale(x_data)  # (B, 6, N) model space
    b, _, n = x0.shape
    t = torch.randint(0, schedule.timesteps, (b,), generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    xt = schedule.q_sample(x0, t, noise)
    cond = net["encoder"].encode(captions)  # (B, D)
    set_points(model, n)
    eps = model(xt, t, cond)[:, :6]
    per_sample = ((eps - noise) ** 2).mean(dim=(1, 2))  # (B,)
    if max_loss_weight <= 1.0:
        return per_sample.mean()
    abar = torch.from_numpy(schedule.alphas_cumprod).to(torch.float32)[t]
    weight = (1.0 + (1.0 - abar) / abar).clamp(max=max_loss_weight)  # 1 + 1/SNR
    return (per_sample * weight).mean()


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
        "vocab": list(state.net["encoder"].config.vocab),
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
        captions, x, _ = make_batch(cfg.seed, state.step, batch, n_points)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + state.step)
        torch.manual_seed(cfg.seed * 1_000_003 + state.step)  # the model's cond dropout draw
        for group in state.opt.param_groups:
            group["lr"] = lr_at(cfg, state.step)
        loss = loss_on_batch(state.net, schedule, captions, x, gen, cfg.max_loss_weight)
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
    e = sum(p.numel() for p in state.net["encoder"].parameters())
    return f"model {n / 1e6:.2f} M params, encoder {e / 1e6:.3f} M, step {state.step}"
