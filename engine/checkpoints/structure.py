"""Which model a state dict is, judged by its keys and shapes, and whether it fits exactly."""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.checkpoints.catalog import CLIP_NAME, POINTE_NAMES, all_entries, get_entry
from engine.errors import CheckpointError

Shapes = dict[str, tuple[int, ...]]

# OpenAI CLIP ViT-L/14 in open_clip key naming: a signature (not every key) plus block counts.
_CLIP_SIGNATURE: Shapes = {
    "visual.conv1.weight": (1024, 3, 14, 14),
    "visual.class_embedding": (1024,),
    "visual.positional_embedding": (257, 1024),
    "visual.proj": (1024, 768),
    "token_embedding.weight": (49408, 768),
    "positional_embedding": (77, 768),
    "text_projection": (768, 768),
}
_CLIP_BLOCKS = {"visual.transformer.resblocks.": 24, "transformer.resblocks.": 12}


def _count_blocks(keys: list[str], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for k in keys if (m := pattern.match(k))}
    return max(found) + 1 if found else 0


_layout_cache: dict[tuple, Shapes] = {}


def pointe_layout(name: str, overrides: Mapping[str, object] | None = None) -> Shapes:
    """Key -> shape of an official Point-E model (with config overrides), from engine.models."""
    from engine.models import build_model, expected_shapes

    key = (name, repr(sorted(dict(overrides or {}).items())))
    if key not in _layout_cache:
        model = build_model(name, device="meta", **dict(overrides or {}))
        _layout_cache[key] = expected_shapes(model)
    return dict(_layout_cache[key])


def _describe_mismatch(want: Shapes, have: Shapes) -> str:
    from engine.models import describe_mismatch  # one wording for every structure problem

    return describe_mismatch(want, have)


def mismatch(name: str, have: Shapes, overrides: Mapping[str, object] | None = None) -> str | None:
    """None when `have` is exactly model `name`'s structure, else a short description why not."""
    entry = get_entry(name)
    if entry.kind == "pointe":
        problem = _describe_mismatch(pointe_layout(name, overrides), have)
        return problem or None
    if name == CLIP_NAME and overrides and "model_name" in overrides:
        # a custom open_clip architecture (air-gapped setups, tests): compare every key
        from engine.models.clip import clip_options, open_clip_layout

        return _describe_mismatch(open_clip_layout(*clip_options(dict(overrides))), have) or None
    if name == CLIP_NAME:
        want = {k: v for k, v in _CLIP_SIGNATURE.items() if have.get(k) != v}
        problems = [
            f"{k} {list(have[k]) if k in have else 'missing'} (expected {list(v)})"
            for k, v in want.items()
        ]
        keys = list(have)
        for prefix, count in _CLIP_BLOCKS.items():
            if (n := _count_blocks(keys, prefix)) != count:
                problems.append(f"{n} blocks under {prefix} (expected {count})")
        return "; ".join(problems[:3]) or None
    return None  # kinds without a known structure (e.g. text2image files) are checked by size/hash


def check_structure(
    name: str, have: Shapes, *, file_label: str, overrides: Mapping[str, object] | None = None
) -> None:
    """Raise CheckpointError naming the file and offering a re-download when it does not fit."""
    problem = mismatch(name, have, overrides)
    if problem:
        raise CheckpointError(
            f"{file_label} is not a valid {name} checkpoint ({problem}). Remove it and download "
            f"it again: `python main.py models download {name}`."
        )


def recognise(
    have: Shapes, overrides: Mapping[str, Mapping[str, object]] | None = None
) -> list[str]:
    """Every catalogue model whose structure `have` matches exactly (two for the 40M vec pair)."""
    overrides = overrides or {}
    names = [*POINTE_NAMES, CLIP_NAME]
    names += [e.name for e in all_entries() if e.name not in names]
    found = []
    for name in names:
        try:
            problem = mismatch(name, have, overrides.get(name))
        except (TypeError, ValueError):
            continue  # overrides that do not apply to this model
        if problem is None and get_entry(name).kind in ("pointe", "clip"):
            found.append(name)
    return found


def disambiguate(candidates: list[str], file_name: str, hint: str | None = None) -> str | None:
    """Pick one of several structurally identical models by hint, then by file name."""
    if hint:
        return hint if hint in candidates else None
    if len(candidates) == 1:
        return candidates[0]
    lowered = file_name.lower()
    for name in candidates:
        entry = get_entry(name)
        served = {f.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] for f in entry.files}
        if any(s and s in lowered for s in served) or name.lower() in lowered:
            return name
    # "textvec"/"imagevec" in any spelling ("text_vec", "image-vec", "textvec.safetensors")
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    hits = [n for n in candidates if n.split("-")[-1] in squashed]
    return hits[0] if len(hits) == 1 else None
