"""`meshlake site serve`: the built site over HTTP on 127.0.0.1 (for browsers that restrict `file://`)."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from meshlake.errors import DiscoveryError
from meshlake.site.build import MARKER


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


def site_server(folder: Path, *, port: int = 8000) -> ThreadingHTTPServer:
    """A server of `folder` (a site `meshlake site build` made) on 127.0.0.1:`port` (0: any free port)."""
    if not (folder / MARKER).is_file():
        raise DiscoveryError(f"{folder} holds no site; run `meshlake site build {folder}` first", value=str(folder))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(folder)))
    except OSError as exc:
        raise DiscoveryError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another --port", value=str(port)
        ) from exc
