"""Transformer building blocks with Point-E's state-dict names and per-head q|k|v layout."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, all cosines first then all sines (Point-E's order)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t[:, None].to(torch.float32) * freqs[None]  # (B, half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb  # (B, dim)


def init_linear(layer: nn.Linear, std: float) -> None:
    nn.init.normal_(layer.weight, std=std)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class MLP(nn.Module):
    def __init__(self, width: int, init_scale: float) -> None:
        super().__init__()
        self.c_fc = nn.Linear(width, width * 4)
        self.c_proj = nn.Linear(width * 4, width)
        std = init_scale / math.sqrt(width)
        init_linear(self.c_fc, std)
        init_linear(self.c_proj, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)  # (..., 4W), a fresh tensor
        # Without a graph, GELU overwrites it: same numbers, one 4W-wide allocation fewer.
        h = F.gelu(h) if torch.is_grad_enabled() else torch.ops.aten.gelu_(h)
        return self.c_proj(h)


def _residual(x: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
    """x + branch; when no graph is recorded, into the branch's fresh output (same numbers)."""
    return x + branch if torch.is_grad_enabled() else branch.add_(x)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Heads-first attention (B, H, L, d) through fused SDPA; softmax scale 1/sqrt(d)."""
    if q.dtype in (torch.float16, torch.bfloat16) and q.device.type == "cpu":
        q, k, v = q.float(), k.float(), v.float()  # CPU half kernels are slow and less exact
    return F.scaled_dot_product_attention(q, k, v)


class SelfAttention(nn.Module):
    """Multi-head self-attention whose c_qkv rows are [q_h0, k_h0, v_h0, q_h1, ...]."""

    def __init__(self, width: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.heads = heads
        self.c_qkv = nn.Linear(width, width * 3)
        self.c_proj = nn.Linear(width, width)
        std = init_scale / math.sqrt(width)
        init_linear(self.c_qkv, std)
        init_linear(self.c_proj, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape  # (B, L, W)
        qkv = self.c_qkv(x).view(b, n, self.heads, -1).transpose(1, 2)  # (B, H, L, 3d)
        q, k, v = qkv.chunk(3, dim=-1)  # per-head interleaved layout
        out = _attend(q, k, v).to(x.dtype)  # (B, H, L, d)
        return self.c_proj(out.transpose(1, 2).reshape(b, n, w))


class ResidualBlock(nn.Module):
    def __init__(self, width: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.attn = SelfAttention(width, heads, init_scale)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = MLP(width, init_scale)
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _residual(x, self.attn(self.ln_1(x)))
        return _residual(x, self.mlp(self.ln_2(x)))


class Transformer(nn.Module):
    """A stack of pre-norm residual blocks with no final norm (keys `resblocks.{i}`)."""

    def __init__(self, width: int, layers: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(
            ResidualBlock(width, heads, init_scale) for _ in range(layers)
        )

    def forward(
        self,
        x: torch.Tensor,
        after_block: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """`after_block(i, x)` runs after block i (the built-in model's phrase attention)."""
        for i, block in enumerate(self.resblocks):
            x = block(x)
            if after_block is not None:
                x = after_block(i, x)
        return x


class CrossAttention(nn.Module):
    """Queries attend to data; c_kv rows are [k_h0, v_h0, k_h1, v_h1, ...]."""

    def __init__(self, width: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.heads = heads
        self.c_q = nn.Linear(width, width)
        self.c_kv = nn.Linear(width, width * 2)
        self.c_proj = nn.Linear(width, width)
        std = init_scale / math.sqrt(width)
        for layer in (self.c_q, self.c_kv, self.c_proj):
            init_linear(layer, std)

    def forward(self, x: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        b, m, w = x.shape  # (B, M, W)
        n = data.shape[1]
        q = self.c_q(x).view(b, m, self.heads, -1).transpose(1, 2)  # (B, H, M, d)
        kv = self.c_kv(data).view(b, n, self.heads, -1).transpose(1, 2)  # (B, H, N, 2d)
        k, v = kv.chunk(2, dim=-1)
        out = _attend(q, k, v).to(x.dtype)  # (B, H, M, d)
        return self.c_proj(out.transpose(1, 2).reshape(b, m, w))


class CrossResidualBlock(nn.Module):
    def __init__(self, width: int, heads: int, init_scale: float) -> None:
        super().__init__()
        self.attn = CrossAttention(width, heads, init_scale)
        self.ln_1 = nn.LayerNorm(width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = MLP(width, init_scale)
        self.ln_3 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        x = _residual(x, self.attn(self.ln_1(x), self.ln_2(data)))
        return _residual(x, self.mlp(self.ln_3(x)))
