"""A local stand-in for the Amazon ECR and ECR Public ``GetAuthorizationToken`` JSON APIs.

Every test that needs "AWS" talks to this server instead (moto hard-codes ``expiresAt`` in 2015 and
does not implement ECR Public at all).  Standard library only, so it can also run as a separate
process next to a frozen binary under test.

In-process use::

    with StandIn() as s:
        s.faults = ["throttle"]            # consumed one per call, then ``default_fault``
        client = boto3.client("ecr", region_name="eu-west-2", endpoint_url=s.url, ...)

Process use::

    python tests/support/standin.py [--host H] [--port P] [--password-template T] [--account A]
                            [--lifetime S]

prints exactly one line ``STANDIN_URL=http://127.0.0.1:PORT`` and serves until SIGTERM/SIGINT.
Control API: ``GET /_standin/calls``, ``GET /_standin/connects``, ``GET|POST /_standin/config``,
``POST /_standin/reset``.

Protocol notes (checked against botocore's service models):

* ECR: ``X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken``; output
  ``authorizationData`` is a *list* of ``{authorizationToken, expiresAt, proxyEndpoint}``.
* ECR Public: ``X-Amz-Target: SpencerFrontendService.GetAuthorizationToken``; output
  ``authorizationData`` is a *single structure* ``{authorizationToken, expiresAt}``.
* ``expiresAt`` is epoch seconds (a JSON number); ``authorizationToken`` is b64("AWS:" + password).
* Region and access key id come from the SigV4 ``Authorization`` header's credential scope.

Fault names (see ``FAULTS``): ok, throttle, http429, 5xx, 503, denied, invalid-token-creds, hang,
hold (answer once ``release()`` is called), latency:<seconds>,
malformed, bad-token, no-colon-token, empty, expire-early:<seconds>, reset,
huge (a 200 MB answer with its Content-Length), huge-chunked (the same, chunked, no length),
expired (``expiresAt`` an hour ago), other-account (ECR: tokens for ``OTHER_ACCOUNT`` instead of
the accounts asked for).

Below HTTP, ``Front`` is a TCP listener in front of a stand-in: it drops every SYN for its first
seconds (a full accept queue), or accepts connections and never says a word.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ECR_TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921"
ECR_PUBLIC_TARGET_PREFIX = "SpencerFrontendService"
_SERVICE_FOR_PREFIX = {ECR_TARGET_PREFIX: "ecr", ECR_PUBLIC_TARGET_PREFIX: "ecr-public"}

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_LIFETIME = 12 * 3600.0
DEFAULT_PASSWORD_TEMPLATE = "{account}-{region}-{serial}"
DEFAULT_PROXY_ENDPOINT_TEMPLATE = "https://{account}.dkr.ecr.{region}.amazonaws.com"
DEFAULT_HANG_SECONDS = 60.0
#: The body size of the ``huge`` faults, streamed in ``_HUGE_CHUNK`` pieces, never held whole.
HUGE_BYTES = 200 << 20
_HUGE_CHUNK = 1 << 20
#: The account ``other-account`` answers for.
OTHER_ACCOUNT = "999999999999"
FALLBACK_REGION = "us-east-1"

#: Fault names without a parameter.
FAULTS = frozenset(
    {
        "ok",
        "throttle",
        "http429",
        "5xx",
        "503",
        "denied",
        "invalid-token-creds",
        "hang",
        "hold",
        "malformed",
        "bad-token",
        "no-colon-token",
        "empty",
        "reset",
        "huge",
        "huge-chunked",
        "expired",
        "other-account",
    }
)
#: Fault names that take a ``:<seconds>`` parameter.
PARAM_FAULTS = frozenset({"latency", "expire-early"})

DENIED_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: "
    "ecr:GetAuthorizationToken"
)

# fault -> (HTTP status, error body)
_ERROR_FAULTS: dict[str, tuple[int, dict[str, str]]] = {
    "throttle": (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
    "http429": (429, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
    "5xx": (500, {"__type": "ServerException", "message": "internal error"}),
    "503": (
        503,
        {"__type": "ServiceUnavailableException", "message": "Service unavailable"},
    ),
    "denied": (400, {"__type": "AccessDeniedException", "Message": DENIED_MESSAGE}),
    "invalid-token-creds": (
        400,
        {
            "__type": "UnrecognizedClientException",
            "message": "The security token included in the request is invalid.",
        },
    ),
}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]+)/([^/]+)/aws4_request")


def parse_fault(fault: str) -> tuple[str, float | None]:
    """Split ``"latency:1.5"`` into ``("latency", 1.5)``; raise ValueError for unknown faults."""
    name, sep, arg = fault.partition(":")
    if name in PARAM_FAULTS:
        if not sep:
            raise ValueError(f"fault {fault!r} needs a ':<seconds>' argument")
        return name, float(arg)
    if sep or name not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}")
    return name, None


def parse_credential_scope(authorization: str | None) -> tuple[str | None, str | None]:
    """Return ``(access_key_id, region)`` from a SigV4 ``Authorization`` header."""
    if not authorization:
        return None, None
    m = _CREDENTIAL_RE.search(authorization)
    if not m:
        return None, None
    return m.group(1), m.group(2)


@dataclasses.dataclass
class Call:
    """One AWS API call seen by the stand-in (appended on arrival, ``status`` filled later)."""

    time: float
    service: str  # "ecr", "ecr-public" or "unknown"
    target: str
    region: str | None
    access_key_id: str | None
    registry_ids: list[str]
    fault: str
    status: int | None = None  # None: no HTTP response was sent (hang / reset / still pending)
    serial: int = 0

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for handlers (e.g. a held "hang")
    standin: StandIn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "StandIn/1.0"
    sys_version = ""

    # -- plumbing ---------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.standin._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.standin._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.standin.verbose:
            sys.stderr.write(f"standin: {format % args}\n")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/x-amz-json-1.1",
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", f"standin-{time.monotonic_ns()}")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def _send_huge(self, chunked: bool, stopping: threading.Event) -> None:
        """A 200 MB ``authorizationData`` answer, written a chunk at a time; stops quietly when
        the client hangs up (as it should, long before the end)."""
        head = b'{"authorizationData": [{"authorizationToken": "'
        tail = b'", "expiresAt": 1, "proxyEndpoint": "https://x"}]}'
        filler = b"A" * _HUGE_CHUNK
        pieces = (HUGE_BYTES - len(head) - len(tail)) // _HUGE_CHUNK
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                size = len(head) + pieces * _HUGE_CHUNK + len(tail)
                self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            for piece in (head, *([filler] * pieces), tail):
                if stopping.is_set():
                    return
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    self.wfile.write(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client stopped reading and closed: the point of the fault
            pass

    # -- CONNECT (proxy) ---------------------------------------------------------------------

    def do_CONNECT(self) -> None:
        self.server.standin._record_connect(self.path)
        self._send(502, b"", content_type="text/plain", close=True)

    # -- control API -------------------------------------------------------------------------

    def do_GET(self) -> None:
        s = self.server.standin
        if self.path == "/_standin/calls":
            self._send(200, json.dumps([c.to_json() for c in s.snapshot()]).encode(), "text/json")
        elif self.path == "/_standin/connects":
            self._send(200, json.dumps(s.snapshot_connects()).encode(), "text/json")
        elif self.path == "/_standin/config":
            self._send(200, json.dumps(s.config()).encode(), "text/json")
        else:
            self._send(404, b'{"message":"not found"}', "text/json")

    def do_POST(self) -> None:
        body = self._read_body()
        s = self.server.standin
        if self.path.startswith("/_standin/"):
            self._control(self.path, body)
            return
        target = self.headers.get("X-Amz-Target")
        if target is None:
            self._send_json(400, {"__type": "MissingTarget", "message": "no X-Amz-Target"})
            return
        s._handle_aws(self, target, body)

    def _control(self, path: str, body: bytes) -> None:
        s = self.server.standin
        try:
            if path == "/_standin/reset":
                s.reset()
            elif path == "/_standin/config":
                s.configure(**(json.loads(body or b"{}")))
            else:
                self._send(404, b'{"message":"not found"}', "text/json")
                return
        except (TypeError, ValueError) as e:
            self._send(400, json.dumps({"message": str(e)}).encode(), "text/json")
            return
        self._send(200, json.dumps(s.config()).encode(), "text/json")

    def _abort(self, rst: bool) -> None:
        """Close the connection without answering; with ``rst`` send a TCP reset."""
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


class StandIn:
    """Threaded ECR / ECR Public stand-in.  See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.host = host
        self._requested_port = port
        self.verbose = verbose
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._released = threading.Event()  # ends "hold"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self.calls: list[Call] = []
        self.connects: list[str] = []
        self._serial = 0
        self._set_defaults()

    def _set_defaults(self) -> None:
        self.default_account: str = DEFAULT_ACCOUNT
        self.account_for_key: dict[str, str] = {}
        self.lifetime: float = DEFAULT_LIFETIME
        self.password_template: str = DEFAULT_PASSWORD_TEMPLATE
        self.proxy_endpoint_template: str = DEFAULT_PROXY_ENDPOINT_TEMPLATE
        self.faults: list[str] = []
        self.default_fault: str = "ok"
        self.hang_seconds: float = DEFAULT_HANG_SECONDS

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> StandIn:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self._requested_port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def release(self) -> None:
        """Let every "hold" request (waiting or still to come) answer."""
        self._released.set()

    def stop(self) -> None:
        self._stopping.set()  # releases "hang" / "latency" handlers
        self._released.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # wake handler threads idling on keep-alive connections
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("StandIn is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    # -- configuration / inspection ------------------------------------------------------------

    def configure(self, **kw: Any) -> None:
        """Set configuration attributes by name (used by the control API)."""
        allowed = {
            "faults",
            "default_fault",
            "lifetime",
            "password_template",
            "proxy_endpoint_template",
            "default_account",
            "account_for_key",
            "hang_seconds",
        }
        unknown = set(kw) - allowed
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if "faults" in kw:
            kw["faults"] = [str(f) for f in kw["faults"]]
            for f in kw["faults"]:
                parse_fault(f)
        if "default_fault" in kw:
            parse_fault(kw["default_fault"])
        if "account_for_key" in kw:
            kw["account_for_key"] = {str(k): str(v) for k, v in kw["account_for_key"].items()}
        for key in ("lifetime", "hang_seconds"):
            if key in kw:
                kw[key] = float(kw[key])
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def config(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": list(self.faults),
                "default_fault": self.default_fault,
                "lifetime": self.lifetime,
                "password_template": self.password_template,
                "proxy_endpoint_template": self.proxy_endpoint_template,
                "default_account": self.default_account,
                "account_for_key": dict(self.account_for_key),
                "hang_seconds": self.hang_seconds,
            }

    def reset(self) -> None:
        """Clear the call and CONNECT logs and queued faults; restore default configuration."""
        with self._lock:
            self.calls = []
            self.connects = []
            self._serial = 0
            self._set_defaults()

    def snapshot(self) -> list[Call]:
        with self._lock:
            return [dataclasses.replace(c) for c in self.calls]

    def snapshot_connects(self) -> list[str]:
        with self._lock:
            return list(self.connects)

    def count(self, service: str | None = None, status: int | None = None) -> int:
        """Number of calls, optionally filtered by service and/or HTTP status."""
        with self._lock:
            return sum(
                1
                for c in self.calls
                if (service is None or c.service == service)
                and (status is None or c.status == status)
            )

    def wait_for_calls(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` calls have arrived; return whether that happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n:
                return True
            time.sleep(0.01)
        return self.count() >= n

    def _record_connect(self, target: str) -> None:
        with self._lock:
            self.connects.append(target)

    # -- the AWS side ----------------------------------------------------------------------------

    def _handle_aws(self, h: _Handler, target: str, body: bytes) -> None:
        prefix, _, op = target.partition(".")
        service = _SERVICE_FOR_PREFIX.get(prefix, "unknown")
        akid, region = parse_credential_scope(h.headers.get("Authorization"))
        try:
            req = json.loads(body) if body.strip() else {}
        except ValueError:
            req = {}
        if not isinstance(req, dict):
            req = {}
        registry_ids = [str(r) for r in req.get("registryIds") or []]
        known = service != "unknown" and op == "GetAuthorizationToken"

        with self._lock:
            fault = "n/a"
            if known:
                fault = self.faults.pop(0) if self.faults else self.default_fault
            self._serial += 1
            call = Call(
                time=time.time(),
                service=service,
                target=target,
                region=region,
                access_key_id=akid,
                registry_ids=registry_ids,
                fault=fault,
                serial=self._serial,
            )
            self.calls.append(call)
            cfg = self.config()

        def answer(status: int, obj: Any = None, raw: bytes | None = None) -> None:
            with self._lock:
                call.status = status
            try:
                h._send(status, raw if raw is not None else json.dumps(obj).encode())
            except OSError:  # the client hung up first (its deadline): it never got this answer
                with self._lock:
                    call.status = None
                h.close_connection = True

        if not known:
            answer(
                400,
                {"__type": "UnknownOperationException", "message": f"Unknown target {target}"},
            )
            return
        try:
            name, arg = parse_fault(fault)
        except ValueError as e:
            answer(500, {"__type": "StandInConfigError", "message": str(e)})
            return

        if name in _ERROR_FAULTS:
            status, err = _ERROR_FAULTS[name]
            answer(status, err)
            return
        if name == "hang":
            self._stopping.wait(cfg["hang_seconds"])
            h._abort(rst=False)
            return
        if name == "reset":
            h._abort(rst=True)
            return
        if name == "malformed":
            answer(200, raw=b'{"authorizationData": [')
            return
        if name in ("huge", "huge-chunked"):
            with self._lock:
                call.status = 200
            h._send_huge(name == "huge-chunked", self._stopping)
            return
        if name == "hold":  # a fetch that lasts exactly until the test says so
            self._released.wait(cfg["hang_seconds"])
        if name == "latency":
            self._stopping.wait(arg or 0.0)
            if self._stopping.is_set():
                h._abort(rst=False)
                return

        region_s = region or FALLBACK_REGION
        default_acct = cfg["account_for_key"].get(akid or "", cfg["default_account"])
        lifetime = arg if name == "expire-early" else cfg["lifetime"]
        if name == "expired":
            lifetime = -3600.0
        expires_at = round(time.time() + float(lifetime or 0.0), 3)

        def token(account: str) -> str:
            if name == "bad-token":
                return "not*base64"
            if name == "no-colon-token":
                return base64.b64encode(b"AWSnocolon").decode()
            password = cfg["password_template"].format(
                account=account, region=region_s, serial=call.serial, service=service
            )
            return base64.b64encode(f"AWS:{password}".encode()).decode()

        if service == "ecr-public":
            data: dict[str, Any] = {}
            if name != "empty":
                acct = OTHER_ACCOUNT if name == "other-account" else default_acct
                data = {"authorizationToken": token(acct), "expiresAt": expires_at}
            answer(200, {"authorizationData": data})
            return

        accounts = [] if name == "empty" else registry_ids or [default_acct]
        if name == "other-account":
            accounts = [OTHER_ACCOUNT]
        entries = [
            {
                "authorizationToken": token(acct),
                "expiresAt": expires_at,
                "proxyEndpoint": cfg["proxy_endpoint_template"].format(
                    account=acct, region=region_s, service=service
                ),
            }
            for acct in accounts
        ]
        answer(200, {"authorizationData": entries})


class Front:
    """A TCP listener in front of a stand-in, for faults below HTTP; ``url`` is its address.

    With ``target`` (``(host, port)``, e.g. ``standin.address``) it forwards every connection
    there, but only after ``drop_for`` seconds: until then its accept queue (``listen(0)``: room
    for one) is kept full by one connection of its own that it does not accept, so Linux drops
    every SYN that arrives (``tcp_abort_on_overflow=0``, the default: no RST, the client just
    retransmits), as for a lost SYN or a listener overwhelmed. Without ``target`` it accepts every
    connection and never sends a byte (a TLS handshake or an HTTP answer that never comes).
    ``connections`` counts the connections accepted (its own filler excluded).
    """

    def __init__(
        self, target: tuple[str, int] | None = None, drop_for: float = 0.0, scheme: str = "http"
    ) -> None:
        self.target = target
        self.drop_for = drop_for
        self.scheme = scheme
        self.connections = 0
        self.accepted_at: list[float] = []
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._filler: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.started = 0.0

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Front:
        if self.drop_for > 0:
            self._listener.listen(0)
            self._filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        else:
            self._listener.listen(64)
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks, self._socks = self._socks, []
        if self._filler is not None:
            socks.append(self._filler)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Front:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)

    def _serve(self) -> None:
        if self._stop.wait(self.drop_for):
            return
        filler = self._filler.getsockname() if self._filler is not None else None
        self._listener.settimeout(0.05)
        with contextlib.suppress(OSError):
            self._listener.listen(64)  # the drop window is over: room for everyone
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if peer == filler:
                conn.close()
                continue
            with self._lock:
                self.connections += 1
                self.accepted_at.append(time.monotonic() - self.started)
            self._keep(conn)
            if self.target is not None:
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _forward(self, conn: socket.socket) -> None:
        assert self.target is not None
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            conn.close()
            return
        self._keep(upstream)
        upstream.settimeout(None)
        conn.settimeout(None)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
        back.start()
        pump(conn, upstream)
        back.join(timeout=60)
        for sock in (conn, upstream):
            with contextlib.suppress(OSError):
                sock.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Local ECR / ECR Public stand-in server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--password-template", default=DEFAULT_PASSWORD_TEMPLATE)
    p.add_argument("--account", default=DEFAULT_ACCOUNT)
    p.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME)
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)

    s = StandIn(args.host, args.port, verbose=args.verbose)
    s.configure(
        password_template=args.password_template,
        default_account=args.account,
        lifetime=args.lifetime,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    s.start()
    sys.stdout.write(f"STANDIN_URL={s.url}\n")
    sys.stdout.flush()
    try:
        while not done.wait(0.2):
            pass
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
