"""moto's server with a count of the actions it was asked for (STS calls, for the job tests)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from moto.server import (  # type: ignore[attr-defined]
    DomainDispatcherApplication,
    MotoRequestHandler,
    ThreadedMotoServer,
    create_backend_app,
)
from werkzeug.serving import make_server


class CountingMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` on 127.0.0.1 that records each query-protocol ``Action``."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.actions: list[str] = []
        self.requests: list[dict[str, str]] = []  # each request's parameters (first values)
        self._lock = threading.Lock()

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)

        def counting(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            query = parse_qs(environ.get("QUERY_STRING", "")) | parse_qs(body.decode("latin-1"))
            with self._lock:
                self.actions.extend(query.get("Action", ["?"])[:1])
                self.requests.append({k: v[0] for k, v in query.items()})
            answer: Iterable[bytes] = app(environ, start_response)
            return answer

        self._server = make_server(
            self._ip_address, self._port, counting, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def calls(self, action: str) -> list[dict[str, str]]:
        """The parameters of each request for ``action``."""
        with self._lock:
            return [r for r in self.requests if r.get("Action") == action]

    def count(self, action: str) -> int:
        with self._lock:
            return self.actions.count(action)


@contextmanager
def counting_sts() -> Iterator[CountingMotoServer]:
    """A ``CountingMotoServer`` for as long as the ``with`` block runs."""
    server = CountingMotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
