"""The quality bench's scoring: training data is labelled as what it is, and a mismatch is not."""

from __future__ import annotations

import numpy as np
import pytest

from engine.train.captions import ObjectSpec
from engine.train.dataset import render
from engine.train.metrics import score, template
from engine.train.shapes import COLORS, COMPOSITES, PRIMITIVES, PROPORTIONS


def _sample(spec: ObjectSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return render(spec, 512, np.random.default_rng(seed))  # jittered, like training data


@pytest.mark.parametrize("kind", PRIMITIVES)
def test_primitives_are_labelled_and_coloured_right(kind: str) -> None:
    xyz, rgb = _sample(ObjectSpec(kind=kind, colors=("blue",)), 1)
    s = score(xyz, rgb, kind, "blue")
    assert s["correct"] and s["label"] == kind
    assert s["colour_error"] < 0.05
    wrong = score(xyz, rgb, kind, "yellow")  # the right shape in the wrong colour
    assert wrong["colour_error"] > 0.3


def test_a_different_shape_is_not_right() -> None:
    xyz, rgb = _sample(ObjectSpec(kind="torus", colors=("red",)), 2)
    s = score(xyz, rgb, "cube", "red")
    assert not s["correct"] and s["label"] == "torus"


def test_composites_are_told_apart() -> None:
    candidates = {k: template(k) for k in COMPOSITES}
    for i, (kind, (main, _, second)) in enumerate(COMPOSITES.items()):
        xyz, rgb = _sample(ObjectSpec(kind=kind, colors=(main, second)), 10 + i)
        s = score(xyz, rgb, kind, main, candidates)
        assert s["label"] == kind and s["correct"], (kind, s)
        # two colours, each on its own part: points near a seam may match the other part
        assert s["colour_error"] < 0.15, (kind, s)


def test_proportion_words_are_told_apart() -> None:
    right = 0
    for i, kind in enumerate(PRIMITIVES):
        forms = {f: template(kind, None if f == "plain" else f) for f in ("plain", *PROPORTIONS)}
        for j, word in enumerate(PROPORTIONS):
            spec = ObjectSpec(kind=kind, colors=("red",), proportion=word)
            xyz, rgb = _sample(spec, 100 + 3 * i + j)
            right += score(xyz, rgb, kind, "red", forms, proportion=word, expect=word)["correct"]
    assert right >= 0.9 * len(PRIMITIVES) * len(PROPORTIONS)
    assert len(COLORS) >= 10
