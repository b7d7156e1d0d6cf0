"""Test helpers for checkpoint downloads: tiny official-layout weights and a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import torch

# Reduced sizes with the official key layout (heads never change shapes).
TINY = {"width": 32, "layers": 1, "heads": 2}
TINY_SDF = {"width": 32, "heads": 2, "encoder_layers": 1, "decoder_layers": 1}
FILENAMES = {
    "base40M-textvec": "base_40m_textvec.pt",
    "base40M-imagevec": "base_40m_imagevec.pt",
    "base40M-uncond": "base_40m_uncond.pt",
    "base40M": "base_40m.pt",
    "base300M": "base_300m.pt",
    "base1B": "base_1b.pt",
    "upsample": "upsample_40m.pt",
    "sdf": "sdf.pt",
}


def tiny_overrides(name: str) -> dict:
    return dict(TINY_SDF if name == "sdf" else TINY)


def all_tiny_overrides() -> dict[str, dict]:
    return {name: tiny_overrides(name) for name in FILENAMES}


def tiny_state_dict(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights with the official keys of `name`, built by the engine at reduced size."""
    from engine.models import build_model

    torch.manual_seed(seed)
    model = build_model(name, **tiny_overrides(name))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def pt_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Payload:
    """Creates a marker file when unpickled: proof that a loader ran code from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@dataclass
class ServerState:
    """What the server serves and how it misbehaves; tests change it between attempts."""

    files: dict[str, bytes] = field(default_factory=dict)  # "/path" -> content
    etags: bool = True  # send ETag (content hash) and Last-Modified
    honour_range: bool = True  # answer Range with 206
    honour_if_range: bool = True  # a stale If-Range gets the whole new file (RFC 9110)
    drop_after: dict[str, list[int]] = field(default_factory=dict)  # path -> bytes per drop
    throttle: float = 0.0  # seconds slept per 64 KiB sent
    requests: list[dict] = field(default_factory=list)  # log: path, range, if_range, status
    on_request: object = None  # callable(state, path) run before answering


def _handler(state: ServerState):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            proxied = self.path if self.path.startswith("http://") else None
            path = urllib.parse.urlsplit(self.path).path
            if callable(state.on_request):
                state.on_request(state, path)
            entry = {
                "path": path,
                "range": self.headers.get("Range"),
                "if_range": self.headers.get("If-Range"),
                "proxied": proxied,
            }
            state.requests.append(entry)
            data = state.files.get(path)
            if data is None:
                entry["status"] = 404
                self.send_error(404)
                return
            etag = f'"{sha256(data)[:16]}"'
            start = 0
            rng = self.headers.get("Range")
            if rng and state.honour_range:
                if_range = self.headers.get("If-Range")
                if not (state.honour_if_range and if_range and if_range != etag):
                    start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data) and start:
                entry["status"] = 416
                self.send_error(416)
                return
            body = data[start:]
            entry["status"] = 206 if start else 200
            self.send_response(entry["status"])
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            if state.etags:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
            self.end_headers()
            drops = state.drop_after.get(path)
            limit = drops.pop(0) if drops else None
            sent = 0
            for i in range(0, len(body), 65536):
                chunk = body[i : i + 65536]
                if limit is not None and sent + len(chunk) > limit:
                    self.wfile.write(chunk[: limit - sent])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
                if state.throttle:
                    time.sleep(state.throttle)

    return Handler


class FileServer:
    """A real HTTP server on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, state: ServerState | None = None) -> None:
        self.state = state or ServerState()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
