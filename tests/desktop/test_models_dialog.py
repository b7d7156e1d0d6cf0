"""Models dialog against a local HTTP server: progress, completion, cancel, import, remove."""

from __future__ import annotations

import pytest
import torch

from engine.checkpoints import ModelStore
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


@pytest.fixture
def server(sdf_bytes):
    with FileServer(ServerState(files={"/m/sdf.pt": sdf_bytes})) as srv:
        yield srv


@pytest.fixture
def dialog(qtbot, tmp_path, server, monkeypatch):
    from PySide6.QtCore import QThread

    from desktop.dialogs.models_dialog import ModelsDialog

    monkeypatch.delenv("POINTE_MIRROR_URL", raising=False)
    store = ModelStore(
        tmp_path / "store",
        overrides=all_tiny_overrides(),
        downloader=Downloader(tmp_path / "store" / ".partial", chunk_size=8192, backoff=0.01),
    )
    store.settings.extra_mirrors = [server.url + "/m/"]
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    dlg.close()
    running = [t for t in dlg.findChildren(QThread) if t.isRunning()]
    assert not running and not dlg.busy, "the models worker thread outlived the dialog"


def test_download_shows_progress_and_completion(qtbot, dialog, server):
    server.state.throttle = 0.15  # a few visible steps
    seen = []
    dialog.bar("sdf").valueChanged.connect(seen.append)
    dialog.select(["sdf"])
    assert dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.modelsChanged, timeout=20_000):
        dialog.download_button.click()
        assert dialog.busy and dialog.status_of("sdf") == "Downloading…"
        assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5_000)
    assert any(0 < v < 1000 for v in seen), f"no intermediate progress: {seen}"
    assert dialog.bar("sdf").value() == 1000
    assert dialog.status_of("sdf") == "Installed"
    assert dialog.store.is_installed("sdf")
    assert "Done: sdf" in dialog.status.text()


def test_cancel_leaves_nothing_behind(qtbot, dialog, server):
    server.state.throttle = 0.5
    dialog.select(["sdf"])
    with qtbot.waitSignal(dialog.jobFinished, timeout=20_000) as finished:
        dialog.download_button.click()
        qtbot.waitUntil(lambda: dialog.bar("sdf").value() > 0, timeout=10_000)
        dialog.cancel_button.click()
    assert finished.args == ["cancelled"]
    assert dialog.status_of("sdf") == "Available" and not dialog.busy
    assert list((dialog.store.root / ".partial").iterdir()) == []
    assert not (dialog.store.root / "sdf").exists()


def test_failure_is_reported_not_raised(qtbot, dialog, server):
    server.state.files["/m/sdf.pt"] = b"not a checkpoint"
    dialog.select(["sdf"])
    with qtbot.waitSignal(dialog.jobFinished, timeout=20_000) as finished:
        dialog.download_button.click()
    assert "not a PyTorch weights file" in finished.args[0]
    assert dialog.status.text().startswith("Failed:")
    assert dialog.status_of("sdf") == "Available"


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
    assert dialog.status_of("upsample") == "Available"
    assert not dialog.store.is_installed("upsample")
