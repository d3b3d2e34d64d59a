"""A plain http server on 127.0.0.1 serving one directory: the source of image imports by URL
(web-download, import tasks, OS::Glance::WebImage). The shared cloud's import filter allows
any port (tests/support/cloud.py), so the server takes a free one."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` while the block runs; yields its base URL (no trailing slash)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
