"""Models dialog against a local HTTP server: statuses, columns, progress, cancel, failures that
do not stop the others, the download mirror setting, import and remove."""

from __future__ import annotations

import json
import re

import pytest
import torch

from engine.checkpoints import ModelStore, all_entries, get_entry
from engine.checkpoints.download import Downloader
from tests.ckpt_testing import (
    FileServer,
    ServerState,
    all_tiny_overrides,
    pt_bytes,
    tiny_state_dict,
)

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def sdf_bytes():
    return pt_bytes(tiny_state_dict("sdf"))


@pytest.fixture(scope="module")
def upsample_bytes():
    return pt_bytes(tiny_state_dict("upsample"))


@pytest.fixture
def server(sdf_bytes):
    with FileServer(ServerState(files={"/m/sdf.pt": sdf_bytes})) as srv:
        yield srv


@pytest.fixture
def dialog(qtbot, tmp_path, server, monkeypatch):
    from PySide6.QtCore import QThread

    from desktop.dialogs.models_dialog import ModelsDialog

    monkeypatch.delenv("POINTE_MIRROR_URL", raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # never the internet:
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # any other host hits a closed port
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1")
    store = ModelStore(
        tmp_path / "store",
        overrides=all_tiny_overrides(),
        downloader=Downloader(tmp_path / "store" / ".partial", chunk_size=8192, backoff=0.01),
    )
    store.settings.extra_mirrors = [server.url + "/m/"]
    # every file's own list is the server too, so a 404 never falls through to the real hosts
    store.settings.mirrors = {
        f.filename: [server.url + "/m/"] for e in all_entries() for f in e.files
    }
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.close()
    running = [t for t in dlg.findChildren(QThread) if t.isRunning()]
    assert not running and not dlg.busy, "the models worker thread outlived the dialog"


def _column(dialog, title: str) -> int:
    headers = [
        dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())
    ]
    return headers.index(title)


def test_columns_show_licence_and_memory_and_fit_the_default_size(dialog):
    row = dialog.row_of("sdf")
    cell = lambda title: dialog.table.item(row, _column(dialog, title))  # noqa: E731
    entry = get_entry("sdf")
    assert cell("Licence").text() == entry.licence == "MIT (openai/point-e)"
    assert cell("Memory").text() == entry.vram_hint
    assert cell("Purpose").toolTip() == entry.purpose
    assert dialog.status_of("sdf") == "Not downloaded"
    assert all(dialog.status_of(e.name) == "Not downloaded" for e in all_entries() if e.files)
    table = dialog.table
    widths = [table.columnWidth(c) for c in range(table.columnCount())]
    assert sum(widths) <= table.viewport().width() + 1, f"columns spill over: {widths}"
    assert table.columnWidth(_column(dialog, "Purpose")) >= 200
    assert not table.wordWrap()  # long cells are elided (tooltip has all), rows stay one line


def test_download_shows_progress_and_completion(qtbot, dialog, server, upsample_bytes):
    from PySide6.QtCore import Qt

    server.state.files["/m/upsample_40m.pt"] = upsample_bytes
    server.state.throttle = 0.15  # a few visible steps
    seen = []
    status_col = _column(dialog, "Status")
    dialog.bar("sdf").valueChanged.connect(seen.append)
    statuses = []

    def record(item) -> None:
        name = dialog.table.item(item.row(), 0)
        if item.column() == status_col and name is not None and name.text() == "sdf":
            statuses.append(item.text())

    dialog.table.itemChanged.connect(record)
    dialog.select(["sdf", "upsample"])
    assert dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.jobFinished, timeout=30_000) as finished:
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        assert dialog.busy and dialog.status_of("upsample") == "Downloading 0%"
        assert dialog.status_of("sdf") == "Queued"  # table order: upsample comes first
        assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
    assert finished.args == ["ok"]
    live = [s for s in statuses if re.fullmatch(r"Downloading [1-9]\d?%", s)]
    assert live, f"no live percentage in the Status column: {statuses}"
    assert any(0 < v < 1000 for v in seen), f"no intermediate progress: {seen}"
    assert dialog.bar("sdf").value() == 1000
    assert dialog.status_of("sdf") == dialog.status_of("upsample") == "Installed"
    assert dialog.store.is_installed("sdf") and dialog.store.is_installed("upsample")
    assert "Done: upsample, sdf installed." in dialog.status.text()


def test_queued_model_waits_while_another_downloads(qtbot, dialog, server, upsample_bytes):
    server.state.files["/m/upsample_40m.pt"] = upsample_bytes
    server.state.throttle = 0.2
    with qtbot.waitSignal(dialog.jobFinished, timeout=30_000):
        dialog.download(["sdf", "upsample"])
        qtbot.waitUntil(
            lambda: bool(re.fullmatch(r"Downloading [1-9]\d?%", dialog.status_of("sdf")))
        )
        assert dialog.status_of("upsample") == "Queued"
        qtbot.waitUntil(lambda: dialog.status_of("upsample").startswith("Downloading"))
        assert dialog.status_of("sdf") == "Installed"  # shown as soon as the next one starts


def test_cancel_leaves_nothing_behind(qtbot, dialog, server):
    server.state.throttle = 0.5
    dialog.select(["sdf"])
    with qtbot.waitSignal(dialog.jobFinished, timeout=20_000) as finished:
        dialog.download_button.click()
        qtbot.waitUntil(lambda: dialog.bar("sdf").value() > 0, timeout=10_000)
        dialog.cancel_button.click()
    assert finished.args == ["cancelled"]
    assert dialog.status_of("sdf") == "Not downloaded" and not dialog.busy
    assert list((dialog.store.root / ".partial").iterdir()) == []
    assert not (dialog.store.root / "sdf").exists()


def test_failure_is_reported_not_raised(qtbot, dialog, server):
    server.state.files["/m/sdf.pt"] = b"not a checkpoint"
    dialog.select(["sdf"])
    with qtbot.waitSignal(dialog.jobFinished, timeout=20_000) as finished:
        dialog.download_button.click()
    assert "not a PyTorch weights file" in finished.args[0]
    assert dialog.status.text().startswith("Failed:")
    assert dialog.status_of("sdf").startswith("Failed: sdf.pt is not a PyTorch weights file")
    assert dialog.report_box is not None and dialog.report_box.isVisible()
    assert "Traceback" not in dialog.report_box.text()


def test_one_failure_does_not_stop_the_others(qtbot, dialog, server, artifacts_dir):
    """upsample 404s, sdf is served: sdf still installs and the report names both."""
    table_height = dialog.table.height()
    status_height = dialog.status.height()
    changed = qtbot.waitSignal(dialog.modelsChanged, timeout=30_000)
    with changed, qtbot.waitSignal(dialog.jobFinished, timeout=30_000) as finished:
        dialog.download(["upsample", "sdf"])
    assert "Installed: sdf." in finished.args[0] and "upsample" in finished.args[0]
    assert dialog.store.is_installed("sdf") and not dialog.store.is_installed("upsample")
    assert dialog.status_of("sdf") == "Installed"
    assert dialog.status_of("upsample") == "Failed: not on the server (HTTP 404)"
    tip = dialog.table.item(dialog.row_of("upsample"), _column(dialog, "Status")).toolTip()
    assert "HTTP 404" in tip and server.url in tip  # the whole story, on hover
    box = dialog.report_box
    assert box.isVisible()
    assert box.text() == (
        "Installed: sdf.\nCould not download upsample: not on the server (HTTP 404)."
    )
    assert "Set a download mirror in Models → Download mirror" in box.informativeText()
    assert "Import file…" in box.informativeText()
    assert "upsample_40m.pt: HTTP 404" in box.detailedText()
    assert dialog.status.text() == (
        "Installed: sdf. Failed: upsample — not on the server (HTTP 404)."
    )
    qtbot.wait(50)  # let the layout settle: the long report must not squeeze the table
    assert dialog.table.height() == table_height and dialog.status.height() == status_height
    assert dialog.details_button.isVisible()
    box.grab().save(str(artifacts_dir / "models_window_report.png"))
    box.close()
    dialog.details_button.click()
    assert box.isVisible()
    box.close()
    dialog.grab().save(str(artifacts_dir / "models_window.png"))


def test_mirror_set_in_the_dialog_is_saved_and_tried_first(
    qtbot, dialog, server, sdf_bytes, artifacts_dir
):
    server.state.files["/lan/sdf.pt"] = sdf_bytes
    assert dialog.mirror_button.isEnabled()
    dialog.mirror_button.click()
    editor = dialog.mirror_dialog
    assert editor is not None and editor.isVisible()
    assert editor.edit.toPlainText() == server.url + "/m/"  # the list as it is now
    editor.set_text("my mirror")
    editor.save_button.click()
    assert editor.isVisible() and "not a web address" in editor.error.text()
    editor.grab().save(str(artifacts_dir / "models_mirror.png"))
    lan = server.url + "/lan/"
    editor.set_text(f"\n{lan}\n\n")
    editor.save_button.click()
    qtbot.waitUntil(lambda: dialog.mirror_dialog is None)
    saved = json.loads((dialog.store.root / "settings.json").read_text())
    assert saved["extra_mirrors"] == [lan]
    assert ModelStore(dialog.store.root).settings.extra_mirrors == [lan]  # the next start too
    assert lan in dialog.mirror_label.text()
    with qtbot.waitSignal(dialog.jobFinished, timeout=20_000) as finished:
        dialog.download(["sdf"])
    assert finished.args == ["ok"]
    assert server.state.requests[0]["path"] == "/lan/sdf.pt"


def test_import_and_remove(qtbot, dialog, tmp_path):
    cache = tmp_path / "point_e_model_cache"
    cache.mkdir()
    torch.save(tiny_state_dict("upsample"), cache / "upsample_40m.pt")
    with qtbot.waitSignal(dialog.modelsChanged, timeout=20_000):
        dialog.import_path(cache)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5_000)
    assert dialog.status_of("upsample") == "Installed"
    assert "installed as upsample" in dialog.status.text()
    dialog.select(["upsample"])
    assert dialog.remove_button.isEnabled()
    with qtbot.waitSignal(dialog.modelsChanged, timeout=2_000):
        dialog.remove_models(["upsample"], confirm=False)
    assert dialog.status_of("upsample") == "Not downloaded"
    assert not dialog.store.is_installed("upsample")
