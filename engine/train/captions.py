"""Object specifications with their captions, and the caption vocabulary the text encoder knows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.models.text_encoder import FILLER
from engine.train.shapes import COLORS, COMPOSITES, PRIMITIVES, PROPORTIONS, SIZES

# primitive x colour combinations never captioned in training: the bench checks them as unseen
HELD_OUT: frozenset[tuple[str, str]] = frozenset(
    {
        ("cube", "pink"),
        ("sphere", "brown"),
        ("cylinder", "purple"),
        ("cone", "grey"),
        ("torus", "orange"),
        ("pyramid", "white"),
        ("capsule", "yellow"),
    }
)

# extra nouns a user may type for a primitive
SYNONYMS: dict[str, str] = {"box": "cube", "ball": "sphere", "ring": "torus", "donut": "torus"}

ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class ObjectSpec:
    """What to draw: a primitive or a composite, its colours, proportion and size words."""

    kind: str  # a primitive or composite name
    colors: tuple[str, ...]  # (main,) or (main, second); composites always have two
    proportion: str | None = None  # tall / flat / wide (primitives only)
    size: str | None = None  # small / large
    caption: str = ""


def vocabulary() -> list[str]:
    """Every word a training caption can contain, sorted (articles excluded)."""
    words = {*PRIMITIVES, *COLORS, *PROPORTIONS, *SIZES, *SYNONYMS, *FILLER, *COMPOSITES}
    words |= {part for _, part, _ in COMPOSITES.values()}
    return sorted(words)


def _primitive_caption(spec: ObjectSpec, noun: str, colored: bool, rng: np.random.Generator) -> str:
    adjectives = [w for w in (spec.size, spec.proportion) if w]
    colour = spec.colors[0] if colored else None
    form = rng.random()
    if colour and form < 0.15:
        return " ".join(["a", *adjectives, noun, "in", colour])
    if colour and form < 0.25:
        return " ".join(["a", *adjectives, noun, "that is", colour])
    words = [*adjectives, colour, noun] if colour else [*adjectives, noun]
    if colour and adjectives and form < 0.4:
        words = [colour, *adjectives, noun]  # "a red tall cylinder": word order varies
    article = "" if form > 0.9 else ("the " if form > 0.85 else "a ")
    return article + " ".join(words)


def random_spec(rng: np.random.Generator, composite_prob: float = 0.25) -> ObjectSpec:
    """A random training object with its caption; never a HELD_OUT primitive x colour pair."""
    names = list(COLORS)
    size = rng.choice(list(SIZES)) if rng.random() < 0.15 else None
    if rng.random() < composite_prob:
        kind = str(rng.choice(list(COMPOSITES)))
        main, part, second = COMPOSITES[kind]
        form = rng.random()
        words = [size] if size else []
        if form < 0.2:  # defaults
            colors, text = (main, second), " ".join(["a", *words, kind])
        elif form < 0.55:  # one colour: the named part keeps its default colour
            c = str(rng.choice(names))
            colors = (c, second if second != main else c)
            text = " ".join(["a", *words, c, kind])
        else:
            c1, c2 = (str(x) for x in rng.choice(names, size=2, replace=False))
            colors, text = (c1, c2), " ".join(["a", *words, c1, kind, "with", c2, part])
            if part != "legs":
                text = text.replace(f"with {c2}", f"with a {c2}")
        return ObjectSpec(kind=kind, colors=colors, size=size, caption=text)
    kind = str(rng.choice(PRIMITIVES))
    allowed = [c for c in names if (kind, c) not in HELD_OUT]
    colour = str(rng.choice(allowed))
    proportion = str(rng.choice(PROPORTIONS)) if rng.random() < 0.25 else None
    colored = rng.random() > 0.06
    noun = kind
    if rng.random() < 0.08:
        noun = next((s for s, k in SYNONYMS.items() if k == kind), kind)
    spec = ObjectSpec(kind=kind, colors=(colour,), proportion=proportion, size=size)
    caption = _primitive_caption(spec, noun, colored, rng)
    return ObjectSpec(
        kind=kind, colors=(colour,), proportion=proportion, size=size, caption=caption
    )


def spec_for(kind: str, color: str, proportion: str | None = None) -> ObjectSpec:
    """The canonical spec and caption for a primitive or composite in one colour (bench)."""
    if kind in COMPOSITES:
        main, _, second = COMPOSITES[kind]
        colors = (color, second if second != main else color)  # as random_spec's one colour
        return ObjectSpec(kind=kind, colors=colors, caption=f"a {color} {kind}")
    words = ["a", *([proportion] if proportion else []), color, kind]
    return ObjectSpec(kind=kind, colors=(color,), proportion=proportion, caption=" ".join(words))
