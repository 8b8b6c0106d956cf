"""A Jupyter server extension: kernel messages reach the browser without Nagle's delay.

    jupyter lab --ServerApp.jpserver_extensions=convergence_lab.lab_server=True

(`make lab` starts JupyterLab this way.) Why: jupyter_server writes kernel messages to
the browser's WebSocket with Nagle's algorithm on (tornado's default for WebSockets).
A live explorer's slider move gets four small replies (busy, the slider's echo, the
frame, idle). The first goes out at once; the rest wait until the browser acknowledges
it, and a browser that has just sent the move delays that acknowledgement by about
40 ms. Measured with benchmarks/bench_jupyterlab.py: the live view's input-to-repaint
median is 57-59 ms on a stock server and about 25 ms with this extension; the kernel
itself sends the frame 3-8 ms after the input.

The extension sets TCP_NODELAY on each kernel WebSocket when it opens, nothing else.
It only ever runs in a server that enables it; without jupyter_server's kernel
WebSocket handler (another server version) it logs a warning and changes nothing.
"""

from __future__ import annotations

import functools
import inspect

EXTENSION = "convergence_lab.lab_server"
__all__ = ["EXTENSION", "without_nagle"]


def _jupyter_server_extension_points():  # the name jupyter_server looks for
    return [{"module": EXTENSION}]


def without_nagle(handler_class) -> bool:
    """Make ``handler_class.open`` switch Nagle off first; False if already done."""
    if vars(handler_class).get("cl_nodelay"):  # this class itself, not a base class
        return False
    opened = handler_class.open

    @functools.wraps(opened)
    async def open(self, *args, **kwargs):  # noqa: A001 - the handler's own method name
        self.set_nodelay(True)  # tornado: TCP_NODELAY on this connection's socket
        result = opened(self, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    handler_class.open = open
    handler_class.cl_nodelay = True
    return True


def _load_jupyter_server_extension(serverapp):  # the name jupyter_server calls
    try:
        from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
    except ImportError:
        serverapp.log.warning(f"{EXTENSION}: no kernel WebSocket handler here; "
                              "kernel messages keep Nagle's delay.")
        return
    without_nagle(KernelWebsocketHandler)
    serverapp.log.info(f"{EXTENSION}: kernel WebSockets send without Nagle's delay")
