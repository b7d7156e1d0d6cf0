"""History gallery: a new result is selected and in view, "Use these settings", steady height."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow

from desktop.history import HistoryStore
from engine.pointcloud import PointCloud

pytestmark = pytest.mark.gui


def _save(store: HistoryStore, i: int):
    rng = np.random.default_rng(i)
    cloud = PointCloud(rng.normal(size=(64, 3)).astype(np.float32), rng.random((64, 3)))
    thumb = np.full((96, 96, 3), (40 * i) % 255, np.uint8)
    meta = {"prompt": f"a red cube {i}", "seed": i, "model": "embedded", "guidance": 3.0}
    return store.save(cloud, meta, thumb)


@pytest.fixture
def gallery(qtbot):
    from desktop.widgets.gallery import Gallery

    host = QMainWindow()
    g = Gallery(host)
    host.setCentralWidget(g)
    host.resize(420, 180)  # room for about one row: later entries scroll
    host.show()
    qtbot.waitExposed(host)
    yield g
    host.close()
    host.deleteLater()


def test_a_new_result_is_selected_and_scrolled_into_view(gallery, qtbot, tmp_path):
    store = HistoryStore(tmp_path)
    old = [_save(store, i) for i in range(12)]
    gallery.set_entries(list(reversed(old)))
    assert gallery.currentItem() is None  # restoring the history selects nothing
    gallery.scrollToBottom()
    qtbot.wait(20)
    assert gallery.verticalScrollBar().value() > 0
    opened = []
    gallery.openRequested.connect(opened.append)
    item = gallery.add_entry(_save(store, 99))
    qtbot.wait(20)
    assert gallery.currentItem() is item and item.isSelected()
    assert gallery.selected_entry().meta["seed"] == 99
    assert gallery.viewport().rect().contains(gallery.visualItemRect(item))
    assert opened == []  # selecting shows where it is; it does not reload anything


def test_use_these_settings_emits_the_entry(gallery, qtbot, tmp_path):
    store = HistoryStore(tmp_path)
    first, second = _save(store, 1), _save(store, 2)
    gallery.set_entries([second, first])
    menu = gallery.context_menu(first)
    actions = {a.text(): a for a in menu.actions()}
    assert "Use these settings" in actions
    with qtbot.waitSignal(gallery.useSettingsRequested, timeout=1_000) as sent:
        actions["Use these settings"].trigger()
    assert sent.args[0].key == first.key and sent.args[0].meta["seed"] == 1
    menu.deleteLater()
    # the same action for the selected thumbnail (what a button or key would call)
    gallery.setCurrentRow(0)
    with qtbot.waitSignal(gallery.useSettingsRequested, timeout=1_000) as sent:
        assert gallery.use_settings()
    assert sent.args[0].key == second.key
    gallery.setCurrentItem(None)
    assert not gallery.use_settings()


def test_history_panel_keeps_its_height_when_the_first_result_arrives(make_window, qtbot):
    window = make_window()
    dock, gallery = window.gallery_dock, window.gallery
    assert gallery.count() == 0 and dock.isVisible()
    qtbot.wait(50)
    before = (dock.height(), gallery.height(), window.viewer.widget.height())
    entry = _save(window.history, 1)
    gallery.add_entry(entry)
    qtbot.wait(100)
    after = (dock.height(), gallery.height(), window.viewer.widget.height())
    assert after == before, f"dock, gallery, viewport heights {before} -> {after}"
    assert gallery.currentItem() is not None


def test_history_panel_keeps_its_height_through_a_whole_run(make_window, qtbot, artifacts_dir):
    from tests.desktop.conftest import scripted_run

    window = make_window(run_fn=scripted_run(steps=2, delay=0.0))
    dock = window.gallery_dock
    qtbot.wait(50)
    before = dock.height()
    window.side.prompt.editor.setPlainText("a red cube")
    with qtbot.waitSignal(window.generationFinished, timeout=60_000) as done:
        window.generate()
    qtbot.wait(100)
    assert window.gallery.count() == 1
    assert window.gallery.selected_entry().key == done.args[0].key
    assert dock.height() == before, f"History dock height {before} -> {dock.height()}"
    window.composite_image().save(str(artifacts_dir / "history_first_result_selected.png"))


def test_use_these_settings_puts_the_entry_back_in_the_side_panel(make_window, qtbot):
    from .conftest import scripted_run

    window = make_window(run_fn=scripted_run(steps=2, delay=0.0))
    side = window.side
    side.seed.setValue(42)
    side.preset.setCurrentIndex(side.preset.findData("fast"))
    side.steps.setValue(7)
    side.prompt.set_text("a yellow torus")
    with qtbot.waitSignal(window.generationFinished, timeout=30_000) as blocker:
        window.generate()
    entry = blocker.args[0]
    side.seed.setValue(1)
    side.preset.setCurrentIndex(side.preset.findData("official"))
    side.steps.setValue(0)
    side.prompt.set_text("something else")
    window.gallery.useSettingsRequested.emit(entry)
    assert side.prompt.text() == "a yellow torus" and side.seed.value() == 42
    assert side.preset.currentData() == "fast" and side.steps.value() == 7
