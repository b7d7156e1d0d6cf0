"""Every mode's side panel fits the side scroll area sideways, at the default and minimum sizes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget

pytestmark = pytest.mark.gui

MODES = ("text", "text-image", "image")
SIDE_MIN_WIDTH = 340  # the side scroll area's minimum width (main_window.py)


def _overflow(window) -> list[str]:
    """Visible side-panel widgets whose right edge lies past the scroll area's viewport."""
    viewport = window.side_scroll.viewport()
    limit = viewport.width()
    cut = []
    for child in window.side.findChildren(QWidget):
        if not child.isVisibleTo(window.side) or not child.isVisible():
            continue
        right = child.mapTo(viewport, QPoint(child.width(), 0)).x()
        if right > limit:
            name = child.objectName() or type(child).__name__
            text = getattr(child, "text", lambda: "")()
            cut.append(f"{name} {text!r}: right edge {right} > {limit}")
    return cut


def _set_side_width(qtbot, window, width: int) -> None:
    splitter = window.centralWidget()
    total = sum(splitter.sizes())
    splitter.setSizes([width, total - width])
    qtbot.wait(50)


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_fits_at_default_size(make_window, qtbot, mode):
    window = make_window()
    window.resize(1280, 820)
    window.side.set_mode(mode)
    qtbot.wait(50)
    assert _overflow(window) == []


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_fits_at_minimum_size(make_window, qtbot, mode, artifacts_dir):
    window = make_window()
    minimum = window.minimumSizeHint()
    window.resize(minimum)
    window.side.set_mode(mode)
    qtbot.wait(50)
    _set_side_width(qtbot, window, SIDE_MIN_WIDTH)
    assert window.side_scroll.width() <= SIDE_MIN_WIDTH + 2
    window.side_scroll.grab().save(str(artifacts_dir / f"side_panel_{mode}_min.png"))
    # the whole panel at that width, scrolled parts included, for a person to look at
    window.side.grab().save(str(artifacts_dir / f"side_panel_{mode}_min_full.png"))
    print(f"window minimum {minimum.width()}x{minimum.height()}")
    assert _overflow(window) == []


def test_model_sampler_precision_and_prompt_explain_themselves(make_window):
    side = make_window().side
    for widget in (side.model, side.sampler, side.precision, side.prompt.editor):
        tip = widget.toolTip()
        assert len(tip.split()) >= 8, f"{widget.objectName() or type(widget).__name__}: {tip!r}"


@pytest.mark.parametrize("mode", ("text-image", "image"))
def test_long_names_do_not_widen_the_panel(make_window, qtbot, mode, tmp_path, artifacts_dir):
    from PIL import Image

    window = make_window()
    side = window.side
    side.set_mode(mode)
    _set_side_width(qtbot, window, SIDE_MIN_WIDTH)
    long_name = "a_picture_with_a_very_long_file_name_that_has_no_spaces_at_all_" * 2 + ".png"
    path = tmp_path / long_name
    Image.new("RGB", (64, 48), (30, 120, 200)).save(path)
    if mode == "image":
        assert side.image.set_image(path)
    else:
        assert side.picture.load_file(path)
        side.picture_settings.set_image_model(str(tmp_path / ("diffusers-pipeline-" * 6)))
    side.show_estimates({"official": 3725.0, "fast": 95.0})
    qtbot.wait(50)
    window.side.grab().save(str(artifacts_dir / f"side_panel_{mode}_long_names.png"))
    assert _overflow(window) == []
