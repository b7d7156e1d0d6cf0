"""With nothing installed, each mode's hint, its "Get models…" button and Generate's missing-model
dialog name the same models, in the route registry's order (desktop.availability.needed_models)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop.availability import Availability, needed_models

pytestmark = pytest.mark.gui

CASES = [  # (mode, model in the Model box or None for the mode's default, upsample)
    ("text", "base40M-textvec", True),
    ("text", "base40M-textvec", False),
    ("text-image", None, True),
    ("text-image", None, False),
    ("image", None, True),
    ("image", None, False),
]


def _names(text: str, pattern: str) -> list[str]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return found.group(1).split(", ")


def _prepare_inputs(window, mode: str, tmp_path: Path) -> None:
    from PIL import Image

    if mode == "image":
        path = tmp_path / "chair.png"
        Image.new("RGB", (64, 64), (200, 30, 30)).save(path)
        assert window.side.image.set_image(path)
    else:
        window.side.prompt.set_text("a red chair")


@pytest.mark.parametrize(("mode", "model", "upsample"), CASES)
def test_hint_button_and_dialog_name_the_same_models(
    make_window, qtbot, monkeypatch, tmp_path, mode, model, upsample
):
    window = make_window()
    side = window.side
    side.set_availability(Availability())  # nothing but the built-in model
    side.set_mode(mode)
    if model is not None:
        side.model.setCurrentIndex(side.model.findData(model))
    side.upsample.setChecked(upsample)
    expected = needed_models(mode, side.model.currentData(), upsample=upsample)
    assert expected, "an official model always needs a download when nothing is installed"

    hint = _names(side.mode_text(mode), r"Needs (.+?) \(about")
    assert side.mode_hint.text() == side.mode_text(mode)

    get = side.get_buttons[mode]
    assert get.isVisibleTo(window)
    with qtbot.waitSignal(side.modelsRequested, timeout=2_000) as blocker:
        get.click()
    button = blocker.args[0]
    if window.models_dialog is not None:
        window.models_dialog.close()

    offered = []
    monkeypatch.setattr(window, "offer_models", lambda names, text: offered.append((names, text)))
    _prepare_inputs(window, mode, tmp_path)
    window.generate()
    assert not window.controller.busy
    assert len(offered) == 1
    dialog_names, dialog_text = offered[0]
    assert dialog_text == side.input_problem()
    message = _names(dialog_text, r"Not installed: (.+?)\. Open Models")

    assert hint == button == dialog_names == message == expected


def test_the_built_in_model_needs_nothing(make_window):
    side = make_window().side
    side.set_availability(Availability())
    side.set_mode("text")
    assert side.model.currentData() == "embedded"
    assert side.mode_missing("text") == [] and side.missing_models() == []
    assert "Needs" not in side.mode_text("text")
    assert not side.get_buttons["text"].isVisibleTo(side)
    side.prompt.set_text("a red chair")
    assert side.input_problem() is None
