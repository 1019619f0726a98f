"""stdin is read in bounded pieces: 100 MB of input costs what a normal call costs, and every
answer stays the one docker-credential-helpers (v0.8+) gives.

Go's ``credentials.Get`` scans stdin with ``bufio.Scanner`` + ``ScanLines``, glues the lines and
applies ``strings.TrimSpace``; the helper reads ``MAX_LINE`` bytes at a time and holds at most
``GLUED_MAX`` glued bytes (ASCII whitespace runs at either end counted as their distinct bytes).
The memory tests run the console script as a subprocess and read its peak RSS with ``os.wait4``.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from docker_credential_ecr_py import _protocol
from docker_credential_ecr_py._errors import ProtocolError
from docker_credential_ecr_py._protocol import (
    GLUED_MAX,
    MAX_LINE,
    read_lines,
    read_server_url,
    read_store_request,
)
from support import CONSOLE_SCRIPT, HOST, base_env, peak_rss_command, run_cli

BIG = 100 * 1000 * 1000  # 100 MB of stdin
SLACK_KIB = 8 * 1024  # peak RSS may exceed a normal get's by at most 8 MiB
NOT_FOUND = b"credentials not found in native keychain\n"
TOO_LONG = b"bufio.Scanner: token too long\n"
TOO_LONG_TEXT = "bufio.Scanner: token too long"
PLAIN = b"example.com"  # not ECR: answered not-found without any AWS call
# unicode.IsSpace, for strings.TrimSpace (as in the Go sources, not taken from the helper).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
ASCII_SPACE = b"\t\n\v\f\r "


class Repeated(io.BytesIO):
    """``head``, ``unit`` repeated to ``total`` bytes, then ``tail``; made as it is read."""

    def __init__(self, head: bytes, unit: bytes, total: int, tail: bytes = b"") -> None:
        super().__init__(head)
        self.unit = unit
        self.block = unit * (MAX_LINE // len(unit) + 2)
        self.sent = 0
        self.left = total
        self.tail = tail

    def read(self, size: int | None = -1) -> bytes:
        out = super().read(size)
        if out:
            return out
        want = MAX_LINE if size is None or size < 0 else min(size, MAX_LINE)
        if self.left <= 0:
            out, self.tail = self.tail[:want], self.tail[want:]
            return out
        start = self.sent % len(self.unit)
        out = self.block[start : start + min(want, self.left)]
        self.sent += len(out)
        self.left -= len(out)
        return out


class Trickle(io.BytesIO):
    """``data`` in reads of the given sizes in turn (never more than asked for)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__(data)
        self.sizes = sizes
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        step = self.sizes[self.reads % len(self.sizes)]
        self.reads += 1
        return super().read(step if size is None or size < 0 else min(size, step))


# -- the console script's peak memory ---------------------------------------------------------


def get_measured(
    env: dict[str, str], head: bytes, unit: bytes = b"", total: int = 0
) -> tuple[bytes, int, bytes, int]:
    """``get`` through the console script, stdin fed from a thread: ``head``, then ``unit``
    repeated to ``total`` bytes, then EOF. (stdout, exit status, stderr, peak RSS in KiB of the
    helper alone: measured from a small launcher, since a child forked from pytest would count
    pytest's own peak.)"""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rss"
        proc = subprocess.Popen(
            peak_rss_command(report, [str(CONSOLE_SCRIPT), "get"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            bufsize=0,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        pipe = proc.stdin
        out: dict[str, bytes] = {}

        def feed() -> None:
            block = memoryview(unit * (1024 * 1024 // len(unit))) if unit else memoryview(b"")
            try:
                _write_all(pipe, memoryview(head))
                left = total
                while left > 0:
                    chunk = block[: min(left, len(block))]
                    _write_all(pipe, chunk)
                    left -= len(chunk)
            except BrokenPipeError:
                pass  # the helper stopped reading early, as it should
            finally:
                pipe.close()

        def drain(name: str, stream: IO[bytes]) -> None:
            out[name] = stream.read()

        workers = [
            threading.Thread(target=feed, daemon=True),
            threading.Thread(target=drain, args=("stdout", proc.stdout), daemon=True),
            threading.Thread(target=drain, args=("stderr", proc.stderr), daemon=True),
        ]
        for worker in workers:
            worker.start()
        try:
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        for worker in workers:
            worker.join(30)
            assert not worker.is_alive()
        proc.stdout.close()
        proc.stderr.close()
        return out["stdout"], code, out["stderr"], int(report.read_text())


def _write_all(pipe: IO[bytes], data: memoryview) -> None:
    while data:
        written = pipe.write(data)
        data = data[written or 0 :]


@pytest.fixture(scope="module")
def quiet_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Nothing from the developer's machine; no credentials (the answers need none)."""
    home = tmp_path_factory.mktemp("home")
    return base_env(home)


@pytest.fixture(scope="module")
def normal_rss(quiet_env: dict[str, str]) -> int:
    """Peak RSS (KiB) of a normal ``get`` of a non-ECR host: the larger of two runs."""
    peaks = []
    for _ in range(2):
        stdout, code, stderr, peak = get_measured(quiet_env, PLAIN + b"\n")
        assert (stdout, code, stderr) == (NOT_FOUND, 1, b"")
        peaks.append(peak)
    return max(peaks)


def test_100mb_single_line_is_token_too_long_in_normal_memory(
    quiet_env: dict[str, str], normal_rss: int
) -> None:
    stdout, code, stderr, peak = get_measured(quiet_env, b"", b"a", BIG)
    assert (stdout, code, stderr) == (TOO_LONG, 1, b"")
    assert peak <= normal_rss + SLACK_KIB, (peak, normal_rss)


def test_100mb_of_short_lines_is_token_too_long_in_normal_memory(
    quiet_env: dict[str, str], normal_rss: int
) -> None:
    stdout, code, stderr, peak = get_measured(quiet_env, PLAIN + b"\n", b"a\n", BIG)
    assert (stdout, code, stderr) == (TOO_LONG, 1, b"")
    assert peak <= normal_rss + SLACK_KIB, (peak, normal_rss)


@pytest.mark.parametrize("unit", [b"\n", b" \n"], ids=["empty-lines", "space-lines"])
def test_host_then_100mb_of_blank_lines_is_the_host_alone_in_normal_memory(
    quiet_env: dict[str, str], normal_rss: int, unit: bytes
) -> None:
    alone = run_cli(["get"], PLAIN, quiet_env)
    assert (alone.stdout, alone.returncode, alone.stderr) == (NOT_FOUND, 1, b"")
    stdout, code, stderr, peak = get_measured(quiet_env, PLAIN + b"\n", unit, BIG)
    assert (stdout, code, stderr) == (alone.stdout, alone.returncode, alone.stderr)
    assert peak <= normal_rss + SLACK_KIB, (peak, normal_rss)


# -- the limits with the real constants, in process -------------------------------------------


@pytest.mark.parametrize(
    "unit", [b"\n", b" \n", b"\r\n", b"\t \r\n", b" \n\r\n\x0b\x0c\n"], ids=repr
)
def test_host_then_100mb_of_blank_lines_gives_the_host_as_server_url(unit: bytes) -> None:
    expected = read_server_url(io.BytesIO(HOST.encode()))
    assert read_server_url(Repeated(HOST.encode() + b"\n", unit, BIG)) == expected == HOST


def test_100mb_of_blank_lines_then_host_gives_the_host_as_server_url() -> None:
    stream = Repeated(b"", b" \n", BIG, tail=HOST.encode() + b"\n")
    assert read_server_url(stream) == HOST


def lines_of(total: int, width: int = 1000) -> bytes:
    """``total`` glued bytes of ``x`` in lines of ``width`` (each far below MAX_LINE)."""
    full, rest = divmod(total, width)
    return (b"x" * width + b"\n") * full + b"x" * rest


def test_glued_url_of_exactly_glued_max_is_served() -> None:
    assert read_server_url(io.BytesIO(lines_of(GLUED_MAX))) == "x" * GLUED_MAX


def test_glued_url_one_byte_over_glued_max_is_token_too_long() -> None:
    with pytest.raises(ProtocolError, match=TOO_LONG_TEXT):
        read_server_url(io.BytesIO(lines_of(GLUED_MAX + 1)))


@pytest.mark.parametrize(("content", "served"), [(GLUED_MAX - 2, True), (GLUED_MAX - 1, False)])
def test_trailing_whitespace_counts_as_its_distinct_bytes(content: int, served: bool) -> None:
    # Each " \t\r\n" line glues to " \t": megabytes of them count as 2 bytes.
    stdin = Repeated(lines_of(content) + b"\n", b" \t\r\n", 3 * GLUED_MAX)
    if served:
        assert read_server_url(stdin) == "x" * content
    else:
        with pytest.raises(ProtocolError, match=TOO_LONG_TEXT):
            read_server_url(stdin)


def test_content_after_whitespace_past_glued_max_is_token_too_long() -> None:
    # Go's URL would be "example.com", 2 MiB of spaces, "x": longer than GLUED_MAX.
    stdin = PLAIN + b"\n" + b" \n" * (2 * 1024 * 1024) + b"x\n"
    with pytest.raises(ProtocolError, match=TOO_LONG_TEXT):
        read_server_url(io.BytesIO(stdin))


def test_store_payload_then_megabytes_of_blank_lines_is_the_payload_alone() -> None:
    payload = b'{"ServerURL":"h","Username":"u","Secret":"s"}\n'
    alone = read_store_request(io.BytesIO(payload))
    assert (alone.server_url, alone.username, alone.secret) == ("h", "u", "s")
    padded = read_store_request(Repeated(payload, b" \r\n", 3 * GLUED_MAX))
    assert (padded.server_url, padded.username, padded.secret) == (
        alone.server_url,
        alone.username,
        alone.secret,
    )


def test_store_literal_cut_by_megabytes_of_spaces_is_gos_error() -> None:
    # Go reads "tru" then a space: the first whitespace byte is what the decoder reports.
    with pytest.raises(ProtocolError) as caught:
        read_store_request(Repeated(b"tru", b" \n", 3 * GLUED_MAX))
    assert str(caught.value) == "invalid character ' ' in literal true (expecting 'e')"


def test_a_line_reaching_max_line_stops_the_read_there() -> None:
    stream = Repeated(PLAIN + b"\n", b"a", BIG)
    with pytest.raises(ProtocolError, match=TOO_LONG_TEXT):
        read_lines(stream)
    assert stream.left >= BIG - 2 * MAX_LINE


# -- the chunked reader against Go's algorithm, on any chunking -------------------------------


class TooLong(Exception):
    pass


def go_glue(data: bytes, max_line: int) -> bytes:
    """``bufio.Scanner`` + ``ScanLines`` over all of ``data`` at once, the lines glued (the
    helper's former whole-read code, with the line limit as a parameter)."""
    out = []
    start = 0
    while start < len(data):
        nl = data.find(b"\n", start)
        stop = len(data) if nl < 0 else nl
        if stop - start >= max_line:
            raise TooLong
        line = data[start:stop]
        out.append(line[:-1] if line.endswith(b"\r") else line)
        start = stop + 1
    return b"".join(out)


def squeezed(glued: bytes) -> bytes:
    """``glued`` with each ASCII whitespace run at either end as its distinct bytes."""
    core = glued.strip(ASCII_SPACE)
    if not core:
        return bytes(dict.fromkeys(glued))
    lead = glued[: len(glued) - len(glued.lstrip(ASCII_SPACE))]
    trail = glued[len(glued.rstrip(ASCII_SPACE)) :]
    return bytes(dict.fromkeys(lead)) + core + bytes(dict.fromkeys(trail))


def store_outcome(stream: io.BytesIO) -> tuple[str, ...]:
    """What ``store`` makes of its input: the three fields, or the error line."""
    try:
        request = read_store_request(stream)
    except ProtocolError as err:
        return ("error", str(err))
    return ("ok", request.server_url, request.username, request.secret)


TOKENS = [
    *(b"{", b"}", b"[", b"]", b":", b",", b'"', b"\\", b"a", b"h", b"\xc2\xa0", b"\xff"),
    *(b'"ServerURL"', b'"Username"', b'"Secret"', b'"h"', b"tru", b"true", b"nul", b"1", b"1."),
    *(b" ", b"\t", b"\r", b"\v", b"\f", b"\r\r", b"   "),
]
# Short lines, mostly: the line limit must not end every input before GLUED_MAX is reached.
jsonish = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from([b"", b"", b"\n", b"\r\n"])).map(b"".join),
    max_size=16,
).map(b"".join)
BLANK = [b"\n", b" \n", b"\t\n", b"\r\n", b" \t\r\n", b"\v\n", b"\f\r\n", b"\r\r\n", b"  ", b"\r"]
# A few mixed blank lines, one line many times over (past GLUED_MAX), a few more.
blank_lines = st.tuples(
    st.lists(st.sampled_from(BLANK), max_size=6).map(b"".join),
    st.sampled_from(BLANK[:8]),
    st.integers(0, 60),
    st.lists(st.sampled_from(BLANK), max_size=6).map(b"".join),
).map(lambda t: t[0] + t[1] * t[2] + t[3])
framed = st.tuples(blank_lines, jsonish, blank_lines).map(b"".join)
split = st.tuples(jsonish, blank_lines, jsonish).map(b"".join)  # content after a blank run
# Lines of 0 to 20 bytes: around the (patched) line limit, ending on either side of a read.
lines = st.lists(
    st.tuples(st.integers(0, 20), st.sampled_from([b"\n", b"\r\n", b"\r", b" \n"])).map(
        lambda t: b"a" * t[0] + t[1]
    ),
    max_size=4,
).map(b"".join)
stdin = st.one_of(st.binary(max_size=60), lines, jsonish, framed, framed, split)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    data=stdin,
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=8),
    max_line=st.integers(4, 16),
    extra=st.integers(0, 8),
)
@example(data=b"ab\r\ncd\r\r\n\r", sizes=[3], max_line=8, extra=0)  # "\r" | "\n" at a boundary
@example(data=b"abcd\nx", sizes=[2, 3], max_line=4, extra=0)  # a line ends in its 2nd read
@example(data=b"h" + b" " * 40 + b"\t\v", sizes=[1], max_line=4, extra=0)
@example(data=b" " * 30 + b"x" + b"\r\n" * 20, sizes=[2, 7], max_line=4, extra=4)
@example(data=b"tru" + b" " * 40, sizes=[5], max_line=8, extra=0)
def test_chunked_reader_matches_go_scanner_on_any_chunking(
    data: bytes, sizes: list[int], max_line: int, extra: int
) -> None:
    cap = max_line + extra  # GLUED_MAX >= MAX_LINE, as with the real constants
    try:
        glued: bytes | None = go_glue(data, max_line)
    except TooLong:
        glued = None
    if glued is not None and len(squeezed(glued)) > cap:
        glued = None  # beyond GLUED_MAX: answered as a long line
    # The reference for store: the glued bytes as one line ("\r\n": the last "\r" is kept).
    want_store = (
        ("error", TOO_LONG_TEXT) if glued is None else store_outcome(io.BytesIO(glued + b"\r\n"))
    )
    with (
        mock.patch.object(_protocol, "MAX_LINE", max_line),
        mock.patch.object(_protocol, "GLUED_MAX", cap),
    ):
        try:
            got: bytes | None = read_lines(Trickle(data, sizes))
        except ProtocolError as err:
            assert str(err) == TOO_LONG_TEXT
            got = None
        error = ""
        try:
            url: str | None = read_server_url(Trickle(data, sizes))
        except ProtocolError as err:
            url = None
            error = str(err)
        got_store = store_outcome(Trickle(data, sizes))
    if glued is None:
        assert got is None and url is None and error == TOO_LONG_TEXT
    else:
        assert got is not None
        assert len(got) <= cap
        if len(glued) <= cap:
            assert got == glued
        else:
            assert squeezed(got) == squeezed(glued)
        want_url = glued.decode("utf-8", "surrogateescape").strip(GO_SPACE)
        if want_url:
            assert url == want_url
        else:
            assert url is None and error == "no credentials server URL"
    assert got_store == want_store


@pytest.mark.parametrize("max_line", [4, 7, MAX_LINE])
def test_line_limit_on_every_chunking_near_it(max_line: int) -> None:
    # Every line length around the limit, alone or after another line, read in pieces whose ends
    # fall before, on and after the line's end.
    small = [1, 2, 3] if max_line < 100 else []  # 1-byte reads of 64 KiB lines would be slow
    reads = sorted({*small, max_line - 2, max_line - 1, max_line})
    wrong = []
    for length in range(max_line - 2, max_line + 2):
        for ending in (b"", b"\n", b"\r\n", b"\r"):
            for before in (b"", b"h\n", b"hh\r\n"):
                data = before + b"a" * length + ending + b"b"
                try:
                    want: bytes | None = go_glue(data, max_line)
                except TooLong:
                    want = None
                for sizes in [chunking for size in reads for chunking in ([size], [size, 1])]:
                    with mock.patch.object(_protocol, "MAX_LINE", max_line):
                        try:
                            got: bytes | None = read_lines(Trickle(data, sizes))
                        except ProtocolError:
                            got = None
                    if got != want:
                        wrong.append((length, ending, before, sizes))
    assert wrong == []
