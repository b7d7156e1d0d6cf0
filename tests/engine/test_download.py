"""Downloads from a real local HTTP server: resume, fallbacks, changes, cancel, disk full."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections import namedtuple
from pathlib import Path

import pytest

from engine.checkpoints import download as dl
from engine.checkpoints import files
from engine.checkpoints.download import DownloadCancelled, Downloader
from engine.errors import CheckpointError
from tests.ckpt_testing import FileServer, ServerState

DATA = os.urandom(300_000)  # 5 x 64 KiB chunks on the server side
NEW = os.urandom(320_000)


@pytest.fixture
def server():
    with FileServer(ServerState(files={"/m/base_40m.pt": DATA})) as srv:
        yield srv


def downloader(tmp_path: Path, **kw) -> Downloader:
    return Downloader(tmp_path / ".partial", backoff=0.01, chunk_size=16384, **kw)


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / ".partial").glob("*"))


def test_interrupted_download_resumes_and_is_identical(tmp_path, server):
    server.state.drop_after["/m/base_40m.pt"] = [100_000]
    events = []
    path, digest, url = downloader(tmp_path).fetch(
        "base_40m.pt", [server.url + "/m/"], progress=events.append
    )
    assert path.read_bytes() == DATA
    assert digest == hashlib.sha256(DATA).hexdigest()
    assert url == server.url + "/m/base_40m.pt"
    reqs = server.state.requests
    assert [r["status"] for r in reqs] == [200, 206]
    assert reqs[1]["range"] == "bytes=100000-" and reqs[1]["if_range"]
    assert any("resuming" in e.message for e in events)
    assert leftovers(tmp_path) == ["base_40m.pt"]  # no .part, .json or .lock


def test_resume_after_restart_of_the_app(tmp_path, server):
    server.state.drop_after["/m/base_40m.pt"] = [120_000]
    with pytest.raises(CheckpointError, match="gave up"):
        downloader(tmp_path, retries=0).fetch("base_40m.pt", [server.url + "/m/"])
    part = tmp_path / ".partial" / "base_40m.pt.part"
    assert part.stat().st_size == 120_000
    assert not (tmp_path / ".partial" / "base_40m.pt.lock").exists()
    path, _, _ = downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])  # "restart"
    assert path.read_bytes() == DATA
    assert server.state.requests[-1]["range"] == "bytes=120000-"


def test_server_ignoring_range_falls_back_to_full_download(tmp_path, server):
    server.state.honour_range = False
    server.state.drop_after["/m/base_40m.pt"] = [100_000]
    events = []
    path, _, _ = downloader(tmp_path).fetch(
        "base_40m.pt", [server.url + "/m/"], progress=events.append
    )
    assert path.read_bytes() == DATA
    assert [r["status"] for r in server.state.requests] == [200, 200]
    assert any("does not support resuming" in e.message for e in events)


def test_404_on_first_mirror_falls_through(tmp_path, server):
    urls = [server.url + "/gone/", server.url + "/m/"]
    path, _, url = downloader(tmp_path).fetch("base_40m.pt", urls)
    assert path.read_bytes() == DATA and url.startswith(server.url + "/m/")
    assert [r["status"] for r in server.state.requests] == [404, 200]


def test_all_mirrors_failing_names_each(tmp_path, server):
    dead = "http://127.0.0.1:9/"  # discard port: connection refused
    with pytest.raises(CheckpointError) as info:
        downloader(tmp_path, retries=1).fetch("base_40m.pt", [server.url + "/gone/", dead])
    text = str(info.value)
    assert "404" in text and "127.0.0.1:9" in text and "gave up after 2 attempts" in text
    assert leftovers(tmp_path) == []


def _swap_after_first(state, path):
    if state.requests:  # the second request sees new content
        state.files["/m/base_40m.pt"] = NEW


@pytest.mark.parametrize("honour_if_range", [True, False], ids=["if-range", "no-if-range"])
def test_content_change_between_attempts_is_detected(tmp_path, server, honour_if_range):
    server.state.honour_if_range = honour_if_range
    server.state.on_request = _swap_after_first
    server.state.drop_after["/m/base_40m.pt"] = [100_000]
    events = []
    path, _, _ = downloader(tmp_path).fetch(
        "base_40m.pt", [server.url + "/m/"], progress=events.append
    )
    assert path.read_bytes() == NEW  # never a mix of old head and new tail
    assert any("changed on the server" in e.message for e in events)


def test_content_change_detected_by_size_without_validators(tmp_path, server):
    server.state.etags = False
    server.state.honour_if_range = False
    server.state.on_request = _swap_after_first
    server.state.drop_after["/m/base_40m.pt"] = [100_000]
    path, _, _ = downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert path.read_bytes() == NEW


def test_known_hash_mismatch_is_refused_and_cleaned(tmp_path, server):
    with pytest.raises(CheckpointError, match="SHA-256 does not match"):
        downloader(tmp_path).fetch(
            "base_40m.pt", [server.url + "/m/"], sha256="0" * 64, expected_size=len(DATA)
        )
    assert leftovers(tmp_path) == []


def test_cancel_leaves_no_partial_and_no_lock(tmp_path, server):
    server.state.throttle = 0.05
    cancel = threading.Event()

    def progress(p):
        if p.done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        downloader(tmp_path).fetch(
            "base_40m.pt", [server.url + "/m/"], progress=progress, cancel=cancel
        )
    assert leftovers(tmp_path) == []


def test_free_space_is_checked_before_starting(tmp_path, server, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: usage(10**6, 10**6 - 1000, 1000))
    with pytest.raises(CheckpointError, match="Not enough free disk space"):
        downloader(tmp_path).fetch(
            "base_40m.pt", [server.url + "/m/"], expected_size=len(DATA), sha256="a" * 64
        )
    assert server.state.requests == [] and leftovers(tmp_path) == []
    with pytest.raises(CheckpointError, match="Not enough free disk space"):  # size from server
        downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert leftovers(tmp_path) == []


def test_disk_full_while_writing_leaves_nothing(tmp_path, server, monkeypatch):
    real_open = open

    class FullDisk:
        def __init__(self, f):
            self.f, self.written = f, 0

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.written += len(data)
            if self.written > 50_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

    def fake_open(path, mode="r", *a, **kw):
        f = real_open(path, mode, *a, **kw)
        return FullDisk(f) if str(path).endswith(".part") else f

    monkeypatch.setattr(dl, "open", fake_open, raising=False)
    with pytest.raises(CheckpointError, match="disk is full"):
        downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert leftovers(tmp_path) == []


def test_lock_refuses_a_second_download_and_stale_locks_are_taken_over(tmp_path, server):
    partial = tmp_path / ".partial"
    partial.mkdir()
    lock = partial / "base_40m.pt.lock"
    lock.write_text(str(os.getpid()))  # a live process holds it
    with pytest.raises(CheckpointError, match="already being downloaded"):
        downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert lock.exists() and server.state.requests == []
    lock.write_text("999999999")  # no such process: stale
    path, _, _ = downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert path.read_bytes() == DATA and not lock.exists()


def test_proxy_environment_is_honoured(tmp_path, server, monkeypatch):
    for var in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("http_proxy", server.url)
    path, _, _ = downloader(tmp_path).fetch("base_40m.pt", ["http://models.invalid/m/"])
    assert path.read_bytes() == DATA
    assert server.state.requests[0]["proxied"] == "http://models.invalid/m/base_40m.pt"


def test_progress_reports_speed_and_time_left(tmp_path, server):
    server.state.files["/m/big.bin"] = os.urandom(1_000_000)
    server.state.throttle = 0.04  # about 1.6 MB/s
    events = []
    downloader(tmp_path).fetch("big.bin", [server.url + "/m/"], progress=events.append)
    mid = [e for e in events if e.speed > 0 and e.done < e.total]
    assert mid, "no progress report carried a speed"
    assert all(e.total == 1_000_000 for e in events)
    assert any(e.eta is not None and e.eta > 0 for e in mid)
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert events[-1].done == 1_000_000


def test_a_complete_partial_is_not_fetched_again(tmp_path, server):
    server.state.drop_after["/m/base_40m.pt"] = [len(DATA) - 1000]
    with pytest.raises(CheckpointError):
        downloader(tmp_path, retries=0).fetch("base_40m.pt", [server.url + "/m/"])
    part = tmp_path / ".partial" / "base_40m.pt.part"
    with open(part, "ab") as f:  # as if the last bytes landed before a crash
        f.write(DATA[-1000:])
    path, _, _ = downloader(tmp_path).fetch("base_40m.pt", [server.url + "/m/"])
    assert path.read_bytes() == DATA and len(server.state.requests) == 1


def test_failure_says_where_the_mirror_is_set(tmp_path, server):
    with pytest.raises(dl.DownloadFailed) as info:
        downloader(tmp_path, retries=0).fetch("base_40m.pt", [server.url + "/gone/"])
    text = str(info.value)
    assert "Set a download mirror in Models → Download mirror" in text
    assert "Import file…" in text and "models settings" not in text
    assert info.value.reason == "not on the server (HTTP 404)"
    assert text.startswith("Could not download base_40m.pt: not on the server (HTTP 404).")


def _store(tmp_path, server, monkeypatch):
    """A store whose every address is the loopback server (a 404 never falls to the internet)."""
    from engine.checkpoints import ModelStore, all_entries
    from tests.ckpt_testing import all_tiny_overrides

    monkeypatch.delenv("POINTE_MIRROR_URL", raising=False)
    store = ModelStore(
        tmp_path / "store", overrides=all_tiny_overrides(), downloader=downloader(tmp_path)
    )
    store.settings.mirrors = {
        f.filename: [server.url + "/m/"] for e in all_entries() for f in e.files
    }
    return store


def test_one_failed_model_does_not_stop_the_others(tmp_path, server, monkeypatch):
    from engine.checkpoints.store import DownloadsFailed
    from tests.ckpt_testing import pt_bytes, tiny_state_dict

    server.state.files["/m/sdf.pt"] = pt_bytes(tiny_state_dict("sdf"))
    store = _store(tmp_path, server, monkeypatch)
    with pytest.raises(DownloadsFailed) as info:
        store.download(["upsample", "sdf"])  # the first one fails: the second is still fetched
    exc = info.value
    assert exc.installed == ["sdf"] and list(exc.failed) == ["upsample"]
    assert store.is_installed("sdf") and not store.is_installed("upsample")
    assert exc.reason("upsample") == "not on the server (HTTP 404)"
    text = str(exc)
    assert text.startswith("Installed: sdf.\nCould not install: upsample.")
    assert "upsample_40m.pt: HTTP 404" in text
    assert text.count("Models → Download mirror") == 1  # the hint once, not once per model


def test_a_single_failure_keeps_its_own_message(tmp_path, server, monkeypatch):
    from engine.checkpoints.store import DownloadsFailed

    store = _store(tmp_path, server, monkeypatch)
    with pytest.raises(DownloadsFailed, match=r"^Could not download upsample: not on the server"):
        store.download(["upsample"])


def test_extra_mirror_saved_in_settings_is_tried_first(tmp_path, server, monkeypatch):
    from engine.checkpoints import ModelStore, get_entry
    from tests.ckpt_testing import pt_bytes, tiny_state_dict

    server.state.files["/lan/sdf.pt"] = pt_bytes(tiny_state_dict("sdf"))
    store = _store(tmp_path, server, monkeypatch)
    store.settings.extra_mirrors = [server.url + "/lan/"]
    store.settings.save()
    again = ModelStore(store.root)  # as the next start of the app reads it
    assert again.settings.extra_mirrors == [server.url + "/lan/"]
    assert again.mirrors_for(get_entry("sdf").files[0])[0] == server.url + "/lan/"
    store.download(["sdf"])
    assert [r["path"] for r in server.state.requests] == ["/lan/sdf.pt"]
