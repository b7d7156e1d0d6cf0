"""The embedded model's word-level text encoder: tokenizing, unknown words, clear errors."""

from __future__ import annotations

import pytest
import torch

from engine.errors import UserInputError
from engine.models.text_encoder import TextEncoder, TextEncoderConfig, words_of
from engine.train.captions import vocabulary


@pytest.fixture()
def encoder() -> TextEncoder:
    torch.manual_seed(0)
    return TextEncoder(
        TextEncoderConfig(vocab=tuple(vocabulary()), width=16, layers=1, heads=2, out_dim=8)
    ).eval()


def test_words_are_normalised() -> None:
    assert words_of("A Tall, RED cylinder!") == ["tall", "red", "cylinder"]
    assert words_of("the gray box") == ["grey", "box"]


def test_analyse_reports_unknown_words(encoder: TextEncoder) -> None:
    known, unknown = encoder.analyse("a shiny red cube on a carpet")
    assert known == ["red", "cube"]
    assert unknown == ["shiny", "on", "carpet"]


def test_encode_gives_unit_vectors_and_ignores_unknown_words(encoder: TextEncoder) -> None:
    with torch.no_grad():
        v = encoder.encode(["a red cube", "a shiny red cube", "a blue cube", "a cube red"])
    assert v.shape == (4, 8)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(v[0], v[1])  # "shiny" is dropped, not encoded as noise
    assert not torch.allclose(v[0], v[2])  # colour changes the vector
    assert not torch.allclose(v[0], v[3])  # so does word order


@pytest.mark.parametrize("prompt", ["", "   ", "hello world", "a the an", "!!!"])
def test_no_known_words_is_a_clear_user_error(encoder: TextEncoder, prompt: str) -> None:
    with pytest.raises(UserInputError) as info:
        encoder.encode([prompt])
    message = str(info.value)
    assert "knows none of the words" in message
    for word in ("cube", "red", "tall", "table"):
        assert word in message


def test_bad_argument_type(encoder: TextEncoder) -> None:
    with pytest.raises(TypeError):
        encoder.encode("a red cube")  # type: ignore[arg-type]


def test_batch_padding_does_not_change_a_prompt(encoder: TextEncoder) -> None:
    with torch.no_grad():
        alone = encoder.encode(["red cube"])
        padded = encoder.encode(["red cube", "a small flat red mushroom with a white stem"])
    torch.testing.assert_close(alone[0], padded[0], atol=1e-5, rtol=1e-5)


def test_bag_encoder_separates_prompts_and_binds_part_colours() -> None:
    torch.manual_seed(0)
    bag = TextEncoder(TextEncoderConfig(vocab=tuple(vocabulary()), out_dim=128, mode="bag"))
    with torch.no_grad():
        v = bag.encode(
            [
                "a red cube",
                "a blue cube",
                "a red mushroom with a white stem",
                "a white mushroom with a red stem",
                "red cube!",
            ]
        )
    sim = v @ v.T
    assert float(sim[0, 1]) < 0.8  # a colour word moves the vector a lot (no collapse)
    assert float(sim[2, 3]) < 0.8  # which part gets which colour matters
    torch.testing.assert_close(v[0], v[4])
    with pytest.raises(UserInputError):
        bag.encode(["with that"])  # only glue words: nothing to draw
