"""A finished run is written to History on a worker: the window keeps ticking meanwhile, and the
entry (same files, same content) is listed and announced once it exists."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QTimer

from desktop.history import HistoryStore, load_cloud_npz

from .conftest import scripted_run

pytestmark = pytest.mark.gui

SAVE_S = 0.4  # a slow disk: long enough that a save on the GUI thread would stop the heartbeat


class SlowStore(HistoryStore):
    """Records which thread wrote each entry and takes SAVE_S to do it."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.threads: list[threading.Thread] = []

    def save(self, *args, **kwargs):
        self.threads.append(threading.current_thread())
        time.sleep(SAVE_S)
        return super().save(*args, **kwargs)


def test_a_run_is_saved_off_the_gui_thread_then_listed(make_window, qtbot, studio_home):
    store = SlowStore(studio_home / "history")
    window = make_window(run_fn=scripted_run(n_stages=1, steps=3, delay=0.01), history=store)
    window.side.prompt.set_text("a red cube")
    seen: dict = {}

    def on_succeeded(_gen_id, cloud, _seconds) -> None:  # connected after the window's own slot
        seen["cloud"] = cloud
        seen["listed_at_once"] = window.gallery.count()

    window.controller.succeeded.connect(on_succeeded)
    ticks: list[float] = []
    heartbeat = QTimer(window)
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    try:
        with qtbot.waitSignal(window.generationFinished, timeout=60_000) as blocker:
            window.generate()
    finally:
        heartbeat.stop()
    entry = blocker.args[0]
    finished = time.perf_counter()

    assert store.threads and store.threads[0] is not threading.main_thread()
    assert seen["listed_at_once"] == 0, "listed only once its files exist"
    during = [t for t in ticks if finished - SAVE_S < t < finished]
    assert len(during) >= 10, f"the GUI thread ticked {len(during)} times during the save"
    # the same entry as a save on the GUI thread made: cloud, thumbnail, metadata, gallery
    cloud = seen["cloud"]
    assert window.current_cloud is cloud
    assert [e.key for e in window.history.entries()] == [entry.key]
    saved = load_cloud_npz(entry.cloud_path)
    np.testing.assert_array_equal(saved.coords, cloud.coords)
    np.testing.assert_allclose(saved.colors, cloud.colors, atol=1e-6)
    assert entry.meta["prompt"] == "a red cube" and entry.meta["n_points"] == len(cloud)
    assert Image.open(entry.thumb_path).size == (160, 160)
    assert window.gallery.count() == 1 and window.gallery.entry(window.gallery.item(0)) == entry
    assert window.editing.source == entry.folder.name, "edits of the result name its entry"


def test_closing_just_after_a_run_finished_still_saves_it(make_window, qtbot, studio_home):
    store = SlowStore(studio_home / "history")
    window = make_window(run_fn=scripted_run(n_stages=1, steps=2, delay=0.01), history=store)
    window.side.prompt.set_text("a blue sphere")
    with qtbot.waitSignal(window.controller.succeeded, timeout=60_000):
        window.generate()
    assert window.gallery.count() == 0, "not written yet"
    window.close()  # starts a save not begun yet, then waits for it like for any worker
    assert not window.history_saver.busy
    entries = HistoryStore(studio_home / "history").entries()
    assert [e.meta["prompt"] for e in entries] == ["a blue sphere"]
    assert entries[0].thumb_path.is_file(), "with its thumbnail, as a save at once made it"
