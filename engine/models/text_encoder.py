"""Text encoder of the embedded model: word tokenizer over a fixed vocabulary + tiny transformer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import UserInputError

log = logging.getLogger(__name__)

IGNORED = frozenset({"a", "an", "the"})  # articles carry nothing; dropped silently
SPELLING = {"gray": "grey", "colour": "color"}  # folded before lookup
# known glue words: a prompt needs at least one word besides these
FILLER = ("with", "and", "in", "of", "that", "is", "colored", "coloured", "shaped")


@dataclass(frozen=True, kw_only=True)
class TextEncoderConfig:
    """Sizes of the encoder; the vocabulary itself is stored beside the weights."""

    vocab: tuple[str, ...]  # known words; token id = index + 1 (0 is padding)
    width: int = 64  # embedding and transformer width
    layers: int = 2  # transformer blocks
    heads: int = 4  # attention heads
    max_words: int = 16  # longer prompts are cut (with a log line)
    out_dim: int = 128  # size of the L2-normalised output vector (the model's clip_dim)
    # "transformer": attention over words, mean-pooled, projected. "bag": sum of word vectors
    # (out_dim wide, one table for words before "with" and one for words after it), so that
    # prompts differ from the start: the transformer's outputs collapsed in training (cosine
    # 0.99 between any two prompts), which left the diffusion model nothing to condition on.
    mode: str = "transformer"


def words_of(prompt: str) -> list[str]:
    """Lowercase words with punctuation removed and articles dropped."""
    words = re.findall(r"[a-z]+", prompt.lower())
    return [SPELLING.get(w, w) for w in words if w not in IGNORED]


class _Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape  # (B, L, W); mask (B, L) True where a word is
        q, k, v = self.qkv(self.ln_1(x)).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        x = x + self.proj(att.transpose(1, 2).reshape(b, n, w))  # (B, L, W)
        return x + self.mlp(self.ln_2(x))


class TextEncoder(nn.Module):
    """Prompt -> unit vector. Needs no external weights; trained jointly with the diffusion model.

    Word order matters (positional embeddings), so "a red mushroom with a white stem" and
    "a white mushroom with a red stem" encode differently."""

    def __init__(self, config: TextEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self._ids = {w: i + 1 for i, w in enumerate(config.vocab)}
        if config.mode == "bag":
            n = len(config.vocab) + 1
            self.token_embed = nn.Embedding(n, config.out_dim, padding_idx=0)
            self.part_embed = nn.Embedding(n, config.out_dim, padding_idx=0)
            return
        if config.mode != "transformer":
            raise ValueError(f"unknown text encoder mode {config.mode!r}")
        self.token_embed = nn.Embedding(len(config.vocab) + 1, config.width, padding_idx=0)
        self.pos_embed = nn.Parameter(torch.randn(config.max_words, config.width) * 0.02)
        self.blocks = nn.ModuleList(
            _Block(config.width, config.heads) for _ in range(config.layers)
        )
        self.ln_post = nn.LayerNorm(config.width)
        self.out = nn.Linear(config.width, config.out_dim)

    @property
    def dim(self) -> int:
        return self.config.out_dim

    def analyse(self, prompt: str) -> tuple[list[str], list[str]]:
        """(known words, unknown words) of a prompt, articles excluded."""
        words = words_of(prompt)
        return [w for w in words if w in self._ids], [w for w in words if w not in self._ids]

    def tokenize(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (B, L) and mask (B, L); raises UserInputError for a prompt with no known word.

        Unknown words are ignored (and logged): the caller can show them via analyse()."""
        rows = []
        for prompt in prompts:
            known, unknown = self.analyse(prompt)
            if not [w for w in known if w not in FILLER]:
                raise UserInputError(self._no_known_words_message(prompt))
            if unknown:
                log.info("ignoring unknown words %s in %r", unknown, prompt)
            if len(known) > self.config.max_words:
                log.info("prompt %r cut to %d words", prompt, self.config.max_words)
            rows.append([self._ids[w] for w in known[: self.config.max_words]])
        n = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), n, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
        return ids, ids > 0

    def _no_known_words_message(self, prompt: str) -> str:
        vocab = set(self.config.vocab)
        groups = [
            ("shapes", ["cube", "sphere", "cylinder", "cone", "torus", "pyramid", "capsule"]),
            ("objects", ["table", "chair", "mug", "snowman", "mushroom", "tree", "house"]),
            ("colours", ["red", "green", "blue", "yellow", "white", "black"]),
            ("sizes", ["tall", "flat", "wide", "small", "large"]),
        ]
        parts = [f"{name} ({', '.join(w for w in ws if w in vocab)})" for name, ws in groups]
        shown = prompt.strip() or "(empty)"
        return (
            f"The built-in model knows none of the words in {shown!r}. It understands "
            + "; ".join(p for p in parts if not p.endswith("()"))
            + ', e.g. "a tall red cylinder". Install an official Point-E model for free text.'
        )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        if n > self.config.max_words:
            raise ValueError(f"ids must have at most {self.config.max_words} words, got {n}")
        if self.config.mode == "bag":
            return self._bag(ids, mask)
        x = self.token_embed(ids) + self.pos_embed[:n]  # (B, L, W)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_post(x)
        m = mask[..., None].to(x.dtype)  # (B, L, 1)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, W)
        return F.normalize(self.out(pooled), dim=-1)  # (B, D), unit length

    def _bag(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Sum of word vectors; words after "with" come from the second table (the part)."""
        first, second = self._bag_sums(ids, mask)
        return F.normalize(first + second, dim=-1)  # (B, D)

    def _bag_sums(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, D) sums of the words before "with" (first table) and after it (second table)."""
        with_id = self._ids.get("with", -1)
        after = torch.cumsum((ids == with_id).long(), dim=1) > 0  # (B, L)
        keep = mask & (ids != with_id)
        first = self.token_embed(ids * (keep & ~after))  # (B, L, D); id 0 rows are zero
        second = self.part_embed(ids * (keep & after))
        return first.sum(1), second.sum(1)

    def encode_phrases(self, prompts: list[str]) -> torch.Tensor:
        """Prompts -> (B, 2, D): the main phrase's and the part phrase's vectors, each
        L2-normalised on its own (zero for a prompt without "with"). Bag encoder only."""
        return self.encode_with_phrases(prompts)[1]

    def encode_with_phrases(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """encode(prompts) and encode_phrases(prompts) from one tokenization and lookup."""
        if isinstance(prompts, str) or not prompts:
            raise TypeError("prompts must be a non-empty list of strings")
        if self.config.mode != "bag":
            raise ValueError("phrase vectors need the bag-of-words encoder")
        ids, mask = self.tokenize(list(prompts))
        device = self.token_embed.weight.device
        first, second = self._bag_sums(ids.to(device), mask.to(device))
        phrases = torch.stack([F.normalize(first, dim=-1), F.normalize(second, dim=-1)], dim=1)
        return F.normalize(first + second, dim=-1), phrases

    def encode(self, prompts: list[str]) -> torch.Tensor:
        """Prompts -> (B, D) L2-normalised vectors on the encoder's device."""
        if isinstance(prompts, str) or not prompts:
            raise TypeError("prompts must be a non-empty list of strings")
        ids, mask = self.tokenize(list(prompts))
        device = self.token_embed.weight.device
        return self(ids.to(device), mask.to(device))
