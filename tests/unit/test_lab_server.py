"""convergence_lab.lab_server: kernel WebSockets open with Nagle's algorithm off."""

import logging
import types

import pytest

from convergence_lab import lab_server


def finish(coroutine):
    """Run a coroutine that never waits (pytest-playwright may hold this thread's loop)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("open() waited for something")


class Handler:
    def __init__(self):
        self.calls = []

    def set_nodelay(self, value):
        self.calls.append(("nodelay", value))

    async def open(self, kernel_id):
        self.calls.append(("open", kernel_id))
        return "opened"


def test_open_switches_nagle_off_first_and_is_patched_once():
    assert lab_server.without_nagle(Handler) is True
    assert lab_server.without_nagle(Handler) is False  # a second load changes nothing
    handler = Handler()
    assert finish(handler.open("k1")) == "opened"
    assert handler.calls == [("nodelay", True), ("open", "k1")]


def test_a_synchronous_open_still_works():
    class Sync(Handler):
        def open(self, kernel_id):
            self.calls.append(("open", kernel_id))

    lab_server.without_nagle(Sync)
    handler = Sync()
    assert finish(handler.open("k2")) is None
    assert handler.calls == [("nodelay", True), ("open", "k2")]


def test_jupyter_server_finds_and_loads_the_extension(monkeypatch, caplog):
    websocket = pytest.importorskip("jupyter_server.services.kernels.websocket")
    assert lab_server._jupyter_server_extension_points() == [
        {"module": "convergence_lab.lab_server"}]
    patched = type("KernelWebsocketHandler", (Handler,), {})
    monkeypatch.setattr(websocket, "KernelWebsocketHandler", patched)
    app = types.SimpleNamespace(log=logging.getLogger("test-lab-server"))
    with caplog.at_level(logging.INFO, "test-lab-server"):
        lab_server._load_jupyter_server_extension(app)
    assert patched.cl_nodelay is True
    assert "without Nagle's delay" in caplog.text
