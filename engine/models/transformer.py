"""Point-E's point-diffusion transformers: unconditional, CLIP-vector, CLIP-grid and upsamplers."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from engine.models.config import ModelConfig
from engine.models.layers import MLP, CrossAttention, Transformer, timestep_embedding


def check_shape(name: str, tensor: torch.Tensor | None, shape: tuple[int | None, ...]) -> None:
    """Raise a ValueError naming the argument when `tensor` does not have `shape` (None = any)."""
    if tensor is None:
        raise ValueError(f"{name} is required")
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    ok = tensor.ndim == len(shape) and all(
        want is None or have == want for have, want in zip(tensor.shape, shape, strict=True)
    )
    if not ok:
        want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"{name} must have shape {want}, got {list(tensor.shape)}")


class PointDiffusionTransformer(nn.Module):
    """The shared skeleton: time embedding, optional prepended tokens, backbone, output head."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self._register_leading_buffers(config)
        w = config.width
        self.time_embed = MLP(w, config.init_scale)
        self.ln_pre = nn.LayerNorm(w)
        self.backbone = Transformer(w, config.layers, config.heads, config.init_scale)
        self.ln_post = nn.LayerNorm(w)
        self.input_proj = nn.Linear(config.input_channels, w)
        self.output_proj = nn.Linear(w, config.output_channels)
        with torch.no_grad():  # an untrained model predicts zero noise
            self.output_proj.weight.zero_()
            self.output_proj.bias.zero_()

    def _register_leading_buffers(self, config: ModelConfig) -> None:
        """Hook for buffers that the official state dict lists before every parameter."""

    def check_inputs(self, x: torch.Tensor, t: torch.Tensor) -> int:
        """Validate x (B, C, N) and t (B,) up front; returns B."""
        check_shape("x", x, (None, self.config.input_channels, self.config.n_ctx))
        check_shape("t", t, (x.shape[0],))
        return x.shape[0]

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.check_inputs(x, t)
        return self._forward_with_cond(x, [(self._time_embed(t), self.config.time_token_cond)])

    def _time_embed(self, t: torch.Tensor) -> torch.Tensor:
        emb = timestep_embedding(t, self.config.width).to(self.input_proj.weight.dtype)
        return self.time_embed(emb)  # (B, W)

    def _forward_with_cond(
        self,
        x: torch.Tensor,
        cond: list[tuple[torch.Tensor, bool]],
        after_block: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """cond: (embedding, as_token) pairs; (B, W) or (B, T, W) tokens are prepended in order,
        non-token (B, W) embeddings are added to every point token first."""
        h = self.input_proj(x.permute(0, 2, 1).to(self.input_proj.weight.dtype))  # (B, N, W)
        for emb, as_token in cond:
            if not as_token:
                h = h + emb[:, None]
        tokens = [emb if emb.ndim == 3 else emb[:, None] for emb, as_token in cond if as_token]
        n_prefix = sum(tok.shape[1] for tok in tokens)
        h = torch.cat([*tokens, h], dim=1) if tokens else h  # (B, n_prefix + N, W)
        h = self.ln_post(self.backbone(self.ln_pre(h), after_block))
        h = self.output_proj(h[:, n_prefix:])  # (B, N, C_out)
        return h.permute(0, 2, 1)  # (B, C_out, N)

    def _drop_cond(self, emb: torch.Tensor) -> torch.Tensor:
        """Classifier-free dropout: zero whole rows, in training mode only."""
        if not self.training or self.config.cond_drop_prob == 0.0:
            return emb
        keep = torch.rand(emb.shape[0], device=emb.device) >= self.config.cond_drop_prob
        return emb * keep.view(-1, *([1] * (emb.ndim - 1))).to(emb.dtype)


class PhraseAttention(nn.Module):
    """Every token attends to the prompt's phrase vectors; the output projection starts at
    zero, so adding it to a trained model changes nothing until training uses it."""

    def __init__(self, width: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(width)
        self.attn = CrossAttention(width, heads, init_scale)
        with torch.no_grad():
            self.attn.c_proj.weight.zero_()
            self.attn.c_proj.bias.zero_()

    def forward(self, h: torch.Tensor, phrases: torch.Tensor) -> torch.Tensor:
        return h + self.attn(self.ln(h), phrases)  # (B, L, W); phrases (B, P, W)


class CLIPImagePointDiffusionTransformer(PointDiffusionTransformer):
    """Conditioned on one L2-normalised vector (CLIP text/image, or the embedded text encoder).

    With config.phrase_tokens = P > 0 (the built-in model only) it also takes `phrases`
    (B, P, D): one vector per phrase of the prompt ("a white vase" | "with a purple neck"),
    which every token attends to after each block. One summed vector added to every point
    makes each point untangle which colour word is its own; attention lets a point pick the
    phrase of the part it lies on."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.clip_embed = nn.Linear(config.clip_dim, config.width)
        if config.phrase_tokens:
            self.phrase_embed = nn.Linear(config.clip_dim, config.width)
            # which phrase a token is (main, part): tells them apart when their words agree
            self.phrase_kind = nn.Parameter(torch.zeros(config.phrase_tokens, config.width))
            self.phrase_attn = nn.ModuleList(
                PhraseAttention(config.width, config.heads, config.init_scale)
                for _ in range(config.layers)
            )

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        embeddings: torch.Tensor | None = None,
        phrases: torch.Tensor | None = None,
    ) -> torch.Tensor:
        b = self.check_inputs(x, t)
        cfg = self.config
        if embeddings is None:  # unconditional
            embeddings = torch.zeros(b, cfg.clip_dim, device=x.device)
        check_shape("embeddings", embeddings, (b, cfg.clip_dim))
        dtype = self.clip_embed.weight.dtype
        if not cfg.phrase_tokens:
            if phrases is not None:
                raise ValueError("this model takes no phrases (config.phrase_tokens is 0)")
            emb = self._drop_cond(embeddings.to(dtype))
            after = None
        else:
            if phrases is None:  # unconditional, like a zero vector
                phrases = torch.zeros(b, cfg.phrase_tokens, cfg.clip_dim, device=x.device)
            check_shape("phrases", phrases, (b, cfg.phrase_tokens, cfg.clip_dim))
            # one dropout draw for both, so a dropped row is unconditional in both paths
            both = self._drop_cond(torch.cat([embeddings[:, None], phrases], 1).to(dtype))
            emb, phr = both[:, 0], both[:, 1:]
            kv = self.phrase_embed(phr * math.sqrt(cfg.clip_dim)) + self.phrase_kind  # (B,P,W)

            def after(i: int, h: torch.Tensor) -> torch.Tensor:
                return self.phrase_attn[i](h, kv)

        c = self.clip_embed(emb * math.sqrt(cfg.clip_dim))  # (B, W)
        temb = self._time_embed(t)
        return self._forward_with_cond(x, [(c, cfg.token_cond), (temb, cfg.time_token_cond)], after)


class _GridMixin(nn.Module):
    """LayerNorm + Linear projection of a CLIP patch grid (B, C, P) into P tokens."""

    def _make_grid_embed(self, config: ModelConfig) -> None:
        self.clip_embed = nn.Sequential(
            nn.LayerNorm(config.clip_dim), nn.Linear(config.clip_dim, config.width)
        )

    def _grid_tokens(self, embeddings: torch.Tensor | None, b: int, ref: torch.Tensor):
        cfg = self.config
        if embeddings is None:  # zero grid = unconditional
            embeddings = torch.zeros(b, cfg.clip_dim, cfg.clip_grid_tokens, device=ref.device)
        check_shape("embeddings", embeddings, (b, cfg.clip_dim, cfg.clip_grid_tokens))
        grid = self._drop_cond(embeddings.to(self.clip_embed[1].weight.dtype))
        return self.clip_embed(grid.permute(0, 2, 1))  # (B, P, W)


class CLIPImageGridPointDiffusionTransformer(_GridMixin, PointDiffusionTransformer):
    """Conditioned on a CLIP ViT-L/14 patch grid: tokens [time, grid x 256, points]."""

    def __init__(self, config: ModelConfig) -> None:
        PointDiffusionTransformer.__init__(self, config)
        self._make_grid_embed(config)

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        b = self.check_inputs(x, t)
        grid = self._grid_tokens(embeddings, b, x)
        return self._forward_with_cond(x, [(self._time_embed(t), True), (grid, True)])


class _LowResMixin(nn.Module):
    """Scales a low-res cloud from data units into model space and projects it to tokens."""

    def _register_leading_buffers(self, config: ModelConfig) -> None:
        self.register_buffer("channel_scales", torch.tensor(config.channel_scales))
        self.register_buffer("channel_biases", torch.tensor(config.channel_biases))

    def _low_res_tokens(self, low_res: torch.Tensor, b: int) -> torch.Tensor:
        check_shape("low_res", low_res, (b, self.config.input_channels, self.config.cond_ctx))
        scaled = low_res.to(self.channel_scales.dtype) * self.channel_scales[None, :, None]
        scaled = scaled + self.channel_biases[None, :, None]  # (B, 6, M) model space
        return self.cond_point_proj(scaled.permute(0, 2, 1).to(self.cond_point_proj.weight.dtype))


class UpsamplePointDiffusionTransformer(_LowResMixin, PointDiffusionTransformer):
    """Upsampler without CLIP (no official config uses it): tokens [time, low-res, points]."""

    def __init__(self, config: ModelConfig) -> None:
        PointDiffusionTransformer.__init__(self, config)  # buffers first, via the hook
        self.cond_point_proj = nn.Linear(config.input_channels, config.width)

    def forward(self, x: torch.Tensor, t: torch.Tensor, low_res: torch.Tensor) -> torch.Tensor:
        b = self.check_inputs(x, t)
        low = self._low_res_tokens(low_res, b)
        return self._forward_with_cond(x, [(self._time_embed(t), True), (low, True)])


class CLIPImageGridUpsamplePointDiffusionTransformer(_GridMixin, UpsamplePointDiffusionTransformer):
    """The official upsampler: tokens [time, grid x 256, low-res x 1024, points]."""

    def __init__(self, config: ModelConfig) -> None:
        UpsamplePointDiffusionTransformer.__init__(self, config)
        self._make_grid_embed(config)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        low_res: torch.Tensor,
        embeddings: torch.Tensor | None = None,
    ) -> torch.Tensor:
        b = self.check_inputs(x, t)
        grid = self._grid_tokens(embeddings, b, x)
        low = self._low_res_tokens(low_res, b)
        return self._forward_with_cond(x, [(self._time_embed(t), True), (grid, True), (low, True)])
