"""Object specifications with their captions, and the caption vocabulary the text encoder knows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.models.text_encoder import FILLER
from engine.train.shapes import (
    COLORS,
    COMPOSITES,
    OBJECT_SYNONYMS,
    PRIMITIVES,
    PROPORTIONS,
    SIZES,
)

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

# (object, main colour, part colour) never captioned in the second generation's training
HELD_OUT_OBJECTS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("mushroom", "blue", "yellow"),
        ("tree", "red", "white"),
        ("house", "green", "black"),
        ("snowman", "pink", "blue"),
        ("lamp", "purple", "orange"),
        ("rocket", "green", "yellow"),
        ("duck", "brown", "pink"),
    }
)

#: The objects of the first generation (its data stream draws from these only, in this order).
FIRST_OBJECTS: tuple[str, ...] = (
    "table", "chair", "mug", "snowman", "mushroom", "tree", "lamp", "dumbbell", "house",
)  # fmt: skip

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


def vocabulary(generation: int = 2) -> list[str]:
    """Every word a training caption of that data generation can contain, sorted (articles
    excluded)."""
    objects = FIRST_OBJECTS if generation == 1 else tuple(COMPOSITES)
    words = {*PRIMITIVES, *COLORS, *PROPORTIONS, *SIZES, *SYNONYMS, *FILLER, *objects}
    words |= {COMPOSITES[name][1] for name in objects}
    if generation > 1:
        words |= set(OBJECT_SYNONYMS)
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


def random_spec(
    rng: np.random.Generator, composite_prob: float = 0.25, generation: int = 1
) -> ObjectSpec:
    """A random training object with its caption; never a HELD_OUT primitive x colour pair.

    generation 1 is the first model's data stream, draw for draw; generation 2 adds the new
    objects and part captions (object_spec)."""
    names = list(COLORS)
    size = rng.choice(list(SIZES)) if rng.random() < 0.15 else None
    if generation > 1 and rng.random() < composite_prob:
        return object_spec(rng, size)
    if generation == 1 and rng.random() < composite_prob:
        kind = str(rng.choice(list(FIRST_OBJECTS)))
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


def object_spec(rng: np.random.Generator, size: str | None = None) -> ObjectSpec:
    """A second-generation object caption: its part named and coloured half of the time, so
    the part words bind to their parts; (object, colour, colour) triples in HELD_OUT_OBJECTS
    are never drawn."""
    names = list(COLORS)
    kind = str(rng.choice(list(COMPOSITES)))
    main, part, second = COMPOSITES[kind]
    noun = "chess pawn" if kind == "pawn" and rng.random() < 0.5 else kind
    words = [size] if size else []
    form = rng.random()
    if form < 0.15:  # defaults
        colors, text = (main, second), " ".join(["a", *words, noun])
    elif form < 0.4:  # one colour: the named part keeps its own default colour
        c = str(rng.choice(names))
        colors = (c, second if second != main else c)
        text = " ".join(["a", *words, c, noun])
    else:
        while True:
            c1, c2 = (str(x) for x in rng.choice(names, size=2, replace=False))
            if (kind, c1, c2) not in HELD_OUT_OBJECTS:
                break
        if form < 0.5:  # "a rocket with a green nose": the body keeps its default colour
            c1 = main if main != c2 else c1
            colors, text = (c1, c2), " ".join(["a", *words, noun, "with", c2, part])
        else:
            colors, text = (c1, c2), " ".join(["a", *words, c1, noun, "with", c2, part])
        if part != "legs":
            text = text.replace(f"with {c2}", f"with a {c2}")
    return ObjectSpec(kind=kind, colors=colors, size=size, caption=text)


def object_caption(kind: str, main: str, second: str | None = None) -> str:
    """The bench's prompt for an object: "a red mushroom" or "a red mushroom with a white stem"."""
    if second is None:
        return f"a {main} {kind}"
    part = COMPOSITES[kind][1]
    article = "" if part == "legs" else "a "
    return f"a {main} {kind} with {article}{second} {part}"


def spec_for(kind: str, color: str, proportion: str | None = None) -> ObjectSpec:
    """The canonical spec and caption for a primitive or composite in one colour (bench)."""
    if kind in COMPOSITES:
        main, _, second = COMPOSITES[kind]
        colors = (color, second if second != main else color)  # as random_spec's one colour
        return ObjectSpec(kind=kind, colors=colors, caption=f"a {color} {kind}")
    words = ["a", *([proportion] if proportion else []), color, kind]
    return ObjectSpec(kind=kind, colors=(color,), proportion=proportion, caption=" ".join(words))
