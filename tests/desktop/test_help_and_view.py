"""Help menu pages, About's SD-Turbo licence, the Turntable button's state, the colour picker."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QMenu

pytestmark = pytest.mark.gui


def _help_menu(window) -> QMenu:
    menus = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"]
    assert menus and isinstance(menus[0], QMenu), "no Help menu"
    return menus[0]


def _help_texts(window) -> list[str]:
    return [a.text().replace("&", "") for a in _help_menu(window).actions()]


def _help_action(window, text: str):
    found = [a for a in _help_menu(window).actions() if a.text().replace("&", "") == text]
    assert found, f"no {text!r} in the Help menu: {_help_texts(window)}"
    return found[0]


def test_help_pages_open_from_the_help_menu_and_list_the_shortcuts(
    make_window, qtbot, artifacts_dir
):
    from desktop.dialogs.help import SHORTCUTS

    window = make_window()
    texts = _help_texts(window)  # next to About
    assert texts.index("Keyboard shortcuts") < texts.index("About Point-E Studio")
    assert texts.index("Getting started") < texts.index("About Point-E Studio")

    _help_action(window, "Getting started").trigger()
    start = window.dialogs["help"]
    qtbot.waitExposed(start)
    assert start.isVisible() and not start.isModal()
    page = start.text.toPlainText()
    for words in ("Ctrl+Enter", "Esc", "History", "Export", "Models", "simple shapes"):
        assert words in page, words
    start.grab().save(str(artifacts_dir / "help_getting_started.png"))

    _help_action(window, "Keyboard shortcuts").trigger()
    keys = window.dialogs["shortcuts"]
    qtbot.waitExposed(keys)
    assert keys.isVisible() and not keys.isModal() and start.isVisible()
    table = keys.text.toPlainText()
    wanted = ["1", "6", "0", "R", "T", "F12", "Ctrl+Enter", "Esc", "Ctrl+E", "Ctrl+Z"]
    wanted += ["Ctrl+Shift+Z", "Ctrl+Q", "Isometric", "Turntable", "Undo", "Redo", "Quit"]
    for words in wanted:
        assert words in table, words
    for _group, rows in SHORTCUTS:
        for shortcut, what in rows:
            assert shortcut in table and what in table
    keys.grab().save(str(artifacts_dir / "help_keyboard_shortcuts.png"))

    # the window still takes input beside the dialogs (non-modal), and a second trigger raises
    # the same dialog instead of stacking copies
    _help_action(window, "Keyboard shortcuts").trigger()
    assert window.dialogs["shortcuts"] is keys
    window.close()
    assert not start.isVisible() and not keys.isVisible()


def test_about_shows_the_sd_turbo_licence(make_window):
    from engine.text2image.catalog import TEXT2IMAGE_DEFAULT

    window = make_window()
    _help_action(window, "About Point-E Studio").trigger()
    text = window.about_dialog.text.toPlainText()
    assert "MIT" in text and "CLIP" in text
    assert "SD-Turbo" in text and TEXT2IMAGE_DEFAULT["repo_id"] in text
    assert TEXT2IMAGE_DEFAULT["licence"] in text and "Stability AI Community License" in text
    assert TEXT2IMAGE_DEFAULT["licence_url"] in window.about_dialog.text.toHtml()


def test_turntable_button_shows_whether_the_view_spins(make_window, qtbot):
    window = make_window()
    viewer, button = window.viewer, window.view_controls.turntable
    assert button.isCheckable() and not button.isChecked() and not viewer.turntable_running
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.isChecked() and viewer.turntable_running
    qtbot.keyClick(viewer.widget, Qt.Key.Key_T)  # T in the viewport stops it: button follows
    assert not viewer.turntable_running and not button.isChecked()
    qtbot.keyClick(viewer.widget, Qt.Key.Key_T)
    assert viewer.turntable_running and button.isChecked()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not button.isChecked() and not viewer.turntable_running


def test_single_colour_picker_colours_the_points(make_window, qtbot, monkeypatch, artifacts_dir):
    window = make_window()
    vc, viewer = window.view_controls, window.viewer
    rng = np.random.default_rng(0)
    viewer.show_points(
        (rng.normal(size=(500, 3)) * 0.2).astype(np.float32), rng.random((500, 3)), fit=True
    )
    assert not vc.color_button.isVisible()  # only offered in single-colour mode
    vc.color_mode.setCurrentIndex(vc.color_mode.findData("single"))
    assert vc.color_button.isVisible() and vc.color_button.isEnabled()
    asked = []

    def fake_get_color(initial, parent, title, *args):
        asked.append(initial.name())
        return QColor("#ff8000")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(fake_get_color))
    with qtbot.waitSignal(vc.singleColorChanged, timeout=2_000) as picked:
        qtbot.mouseClick(vc.color_button, Qt.MouseButton.LeftButton)
    assert asked == ["#4c9be8"] and picked.args == ["#ff8000"]
    assert vc.single_color == "#ff8000"
    shown = viewer.displayed_colors()
    assert shown.shape == (500, 3) and (shown == [255, 128, 0]).all()
    assert tuple(round(c * 255) for c in viewer.actor.prop.color.float_rgb) == (255, 128, 0)
    viewer.flush()
    window.composite_image().save(str(artifacts_dir / "single_colour_orange.png"))
    # remembered: back to the file's colours and to single colour again keeps orange
    vc.color_mode.setCurrentIndex(vc.color_mode.findData("rgb"))
    assert not vc.color_button.isVisible()
    assert (viewer.displayed_colors() == viewer.colors()).all()
    vc.color_mode.setCurrentIndex(vc.color_mode.findData("single"))
    assert (viewer.displayed_colors() == [255, 128, 0]).all()
    # a cancelled dialog (invalid colour) changes nothing
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a: QColor()))
    qtbot.mouseClick(vc.color_button, Qt.MouseButton.LeftButton)
    assert vc.single_color == "#ff8000"


def test_viewer_set_color_mode_applies_the_colour(make_window):
    viewer = make_window().viewer
    viewer.set_color_mode("single", "#00ff00")  # before any points: kept for the actor
    viewer.show_points(np.zeros((10, 3), np.float32), None)
    assert (viewer.displayed_colors() == [0, 255, 0]).all()
    viewer.set_color_mode("height")
    assert viewer.displayed_colors().shape == (10, 3)
    with pytest.raises(ValueError):
        viewer.set_color_mode("single", "not-a-colour")
    assert viewer.single_color == "#00ff00" and viewer.color_mode == "height"
