"""Property tests (hypothesis): the wire format, the registry parser and the whole program
(``_cli.run``) on arbitrary input.

Every oracle here is written from the Go sources' behaviour (``bufio.Scanner``, ``encoding/json``,
``credentials.Serve``), not from our implementation. The whole-program tests run with HOME and
DOCKER_CONFIG in a fresh temporary directory, no AWS credentials, every AWS endpoint and proxy at a
closed local port and ``AWS_ECR_TIMEOUT=1``: nothing can reach the network and misses fail fast.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from docker_credential_ecr_py import __version__
from docker_credential_ecr_py._commands import HELP as HELP_TEXT
from docker_credential_ecr_py._errors import ProtocolError
from docker_credential_ecr_py._protocol import (
    encode_credentials,
    encode_string_map,
    go_string,
    read_lines,
    read_server_url,
    read_store_request,
)
from docker_credential_ecr_py._registry import Registry, parse
from support import base_env, closed_url, run_cli

FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None)
# Whole-program runs cost ~1 ms each in process (more when a host is a real ECR host).
SLOW = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------------------------
# Oracles, written from the Go side
# --------------------------------------------------------------------------------------------

MAX_TOKEN = 64 * 1024  # bufio.MaxScanTokenSize
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)  # unicode.IsSpace
NOT_FOUND = b"credentials not found in native keychain\n"
MISSING_URL = b"no credentials server URL\n"
MISSING_USER = b"no credentials username\n"
NOT_IMPLEMENTED = b"not implemented\n"
TOO_LONG = b"bufio.Scanner: token too long\n"
USAGE = b"Usage: docker-credential-ecr-login <store|get|erase|list|version>\n"
HELP = HELP_TEXT.encode()
VERSION = f"docker-credential-ecr-login (docker-credential-ecr-py) {__version__}\n".encode()
EXTRA_COMMANDS = ("configure-docker", "gitlab-auth-config", "doctor", "cache")
VERBS = ("get", "erase", "store", "list", "version")


class TooLong(Exception):
    pass


def go_scan_lines(data: bytes) -> bytes:
    """``bufio.Scanner`` + ``ScanLines`` over ``data``, the tokens glued together.

    Simulated the way Go does it: the buffer holds at most ``MaxScanTokenSize`` bytes, and a
    buffer that is full without a newline fails even when EOF is right behind it.
    """
    out = []
    rest = data
    while rest:
        window = rest[:MAX_TOKEN]
        nl = window.find(b"\n")
        if nl < 0:
            if len(window) == MAX_TOKEN:
                raise TooLong
            line, rest = window, b""
        else:
            line, rest = window[:nl], rest[nl + 1 :]
        out.append(line[:-1] if line.endswith(b"\r") else line)
    return b"".join(out)


def without_surrogates(text: str) -> str:
    """Lone surrogates (invalid UTF-8 kept by surrogateescape) as U+FFFD, as Go writes them."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def go_json_string(text: str) -> str:
    """Go ``encoding/json`` for a string: Python's encoder plus Go's HTML and U+2028/9 escapes;
    each invalid UTF-8 byte (a lone surrogate here) is written as the escape ``\\ufffd``."""
    pieces = []
    for bad, run in itertools.groupby(text, lambda ch: 0xD800 <= ord(ch) <= 0xDFFF):
        piece = "".join(run)
        if bad:
            pieces.append("\\ufffd" * len(piece))
            continue
        body = json.dumps(piece, ensure_ascii=False)[1:-1]
        for raw, escaped in (
            ("<", "\\u003c"),
            (">", "\\u003e"),
            ("&", "\\u0026"),
            ("\u2028", "\\u2028"),
            ("\u2029", "\\u2029"),
        ):
            body = body.replace(raw, escaped)
        pieces.append(body)
    return '"' + "".join(pieces) + '"'


def go_quote_char(byte: int) -> bytes:
    """``encoding/json``'s ``quoteChar``: the byte as a rune, ``strconv.Quote``-d in ``'``."""
    if byte == ord("'"):
        return b"'\\''"
    if byte == ord('"'):
        return b"'\"'"
    if byte < 0x20 or byte == 0x7F:
        short = {0x07: "a", 0x08: "b", 0x0C: "f", 0x0A: "n", 0x0D: "r", 0x09: "t", 0x0B: "v"}
        inner = "\\" + short[byte] if byte in short else f"\\x{byte:02x}"
        return ("'" + inner + "'").encode()
    if byte == ord("\\"):
        return b"'\\\\'"
    if 0x80 <= byte <= 0xA0 or byte == 0xAD:  # not strconv.IsPrint: U+0080-U+00A0, U+00AD
        return f"'\\u{byte:04x}'".encode()
    return ("'" + chr(byte) + "'").encode()


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

SUFFIXES = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "on.aws",
    "on.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
)
PUBLIC_HOSTS = ("public.ecr.aws", "ecr-public.aws.com")
HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
LABEL = st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)
NO_SURROGATES = st.characters(blacklist_categories=["Cs"])
SURROGATE_TEXT = st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
    max_size=40,
)


@st.composite
def private_hosts(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A canonical (lower-case) private ECR host and the fields parse must find in it."""
    account = draw(st.text("0123456789", min_size=12, max_size=12))
    sep = draw(st.sampled_from(".-"))
    fips = draw(st.booleans())
    region = draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,19}", fullmatch=True))
    suffix = draw(st.sampled_from(SUFFIXES))
    host = f"{account}.dkr{sep}ecr{'-fips' if fips else ''}.{region}.{suffix}"
    fields: dict[str, object] = {
        "account": account,
        "region": region,
        "fips": fips,
        "dualstack": sep == "-" or suffix.startswith("on."),
        "suffix": suffix,
    }
    return host, fields


ACCEPTED_HOSTS = st.one_of(private_hosts().map(lambda pair: pair[0]), st.sampled_from(PUBLIC_HOSTS))


@st.composite
def decorated(draw: st.DrawFn, host: str) -> str:
    """``host`` the way clients send it: scheme, user, port, trailing dot, path, any case."""
    cased = "".join(ch.upper() if draw(st.booleans()) else ch for ch in host)
    scheme = draw(st.sampled_from(["", "https://", "http://", "HTTPS://", "Http://"]))
    user = draw(st.sampled_from(["", "AWS@", "user:pw@"]))
    dot = draw(st.sampled_from(["", "."]))
    port = draw(st.sampled_from(["", ":443", ":5000", ":"]))
    path = draw(st.sampled_from(["", "/", "/v2/", "/repo/image:tag", "?x=1", "#frag"]))
    return scheme + user + cased + dot + port + path


def stdin_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, text, JSON-ish store payloads, long lines and ECR hosts."""
    values = st.one_of(st.text(max_size=20), st.none(), st.integers(), st.booleans())
    keys = st.sampled_from(
        ["ServerURL", "serverurl", "SERVERURL", "Username", "username", "Secret", "secret", "x"]
    )
    payload = st.dictionaries(keys, values, max_size=4).map(lambda d: json.dumps(d).encode())
    return st.one_of(
        st.binary(max_size=200),
        st.text(max_size=100).map(lambda t: t.encode()),
        payload,
        st.tuples(payload, st.integers(0, 60)).map(lambda p: p[0][: p[1]]),
        st.builds(
            lambda n, tail: b"x" * n + tail,
            st.integers(MAX_TOKEN - 3, MAX_TOKEN + 2),
            st.sampled_from([b"", b"\n", b"\r\n", b"\nabc"]),
        ),
    )


DEAD = closed_url()


def isolated_env(home: Path) -> dict[str, str]:
    """base_env without credentials, every AWS endpoint and proxy at a closed port."""
    env = base_env(home)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_ENDPOINT_URL_ECR_PUBLIC",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_SSO",
        "AWS_ENDPOINT_URL_SSO_OIDC",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        env[name] = DEAD
    env["AWS_ECR_TIMEOUT"] = "1"
    return env


def run_isolated(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The whole program (``_cli.run``) in process, in a fresh home."""
    with tempfile.TemporaryDirectory(prefix="ecr-fuzz-") as tmp:
        return run_cli(args, stdin, isolated_env(Path(tmp)))


def assert_clean(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stdout, result
    assert b"Traceback" not in result.stderr, result
    assert b"internal error" not in result.stderr, result


def assert_one_line(stdout: bytes) -> None:
    assert stdout.endswith(b"\n"), stdout
    assert stdout.count(b"\n") == 1, stdout


# --------------------------------------------------------------------------------------------
# 1. The wire format, in process
# --------------------------------------------------------------------------------------------


@FAST
@given(stdin_bytes())
@example(b"a\r\r\nb\rc\r")
@example(b"x" * (MAX_TOKEN - 1) + b"\r\n")
@example(b"x" * MAX_TOKEN)
def test_read_lines_is_bufio_scanner(data: bytes) -> None:
    try:
        expected: bytes | None = go_scan_lines(data)
    except TooLong:
        expected = None
    try:
        got: bytes | None = read_lines(io.BytesIO(data))
    except ProtocolError as err:
        assert str(err) == "bufio.Scanner: token too long"
        got = None
    assert got == expected


@FAST
@given(stdin_bytes())
@example(b" \x85\xc2\x85\t\n\r\n")
@example("\u3000\u2028 x \u205f".encode())
@example(b"\x1c")
def test_read_server_url_is_trimmed_glued_stdin(data: bytes) -> None:
    try:
        glued: bytes | None = go_scan_lines(data)
    except TooLong:
        glued = None
    try:
        url = read_server_url(io.BytesIO(data))
    except ProtocolError as err:
        message = str(err)
        if glued is None:
            assert message == "bufio.Scanner: token too long"
        else:
            assert message == "no credentials server URL"
            assert not glued.decode("utf-8", "surrogateescape").strip(GO_SPACE)
        return
    assert glued is not None
    assert url == glued.decode("utf-8", "surrogateescape").strip(GO_SPACE)
    assert url


@FAST
@given(st.text(NO_SURROGATES))
@example('<token>&\u2028\u2029\x00\x1f\x7f\b\f\n\r\t"\\é😀')
def test_go_string_round_trips_and_is_html_safe(text: str) -> None:
    literal = go_string(text)
    assert json.loads(literal) == text
    assert literal == go_json_string(text)
    for forbidden in "<>&\u2028\u2029":
        assert forbidden not in literal
    assert not any(ord(ch) < 0x20 for ch in literal)


@FAST
@given(SURROGATE_TEXT)
@example("a\udcff\udc80b\ud800")
def test_go_string_writes_invalid_utf8_as_replacement_chars(text: str) -> None:
    literal = go_string(text)
    literal.encode("utf-8")  # valid UTF-8: no surrogate leaks into the output
    assert json.loads(literal) == without_surrogates(text)
    assert literal == go_json_string(text)


@FAST
@given(st.text(NO_SURROGATES), st.text(NO_SURROGATES), st.text(NO_SURROGATES))
@example("https://x/", "<token>", "a\nb")
def test_encode_credentials_is_one_json_line(url: str, user: str, secret: str) -> None:
    out = encode_credentials(url, user, secret)
    assert_one_line(out)
    pairs = json.loads(out, object_pairs_hook=list)
    assert pairs == [("ServerURL", url), ("Username", user), ("Secret", secret)]
    assert out.decode() == (
        f'{{"ServerURL":{go_json_string(url)},"Username":{go_json_string(user)},'
        f'"Secret":{go_json_string(secret)}}}\n'
    )


@FAST
@given(st.dictionaries(st.binary(max_size=8), st.text(NO_SURROGATES, max_size=8), max_size=8))
@example({})
@example({b"\xff": "a", "\U0001f600".encode(): "b", "\uffff".encode(): "c", b"Z": "d"})
def test_encode_string_map_sorts_keys_bytewise(raw: dict[bytes, str]) -> None:
    mapping = {key.decode("utf-8", "surrogateescape"): value for key, value in raw.items()}
    out = encode_string_map(mapping)
    assert_one_line(out)
    if not mapping:
        assert out == b"{}\n"
    order = sorted(raw)
    pairs = json.loads(out, object_pairs_hook=list)
    assert [value for _, value in pairs] == [raw[key] for key in order]
    # Go writes each invalid UTF-8 byte as \ufffd.
    assert [key for key, _ in pairs] == [
        without_surrogates(key.decode("utf-8", "surrogateescape")) for key in order
    ]


STORE_PREFIXES = (
    "invalid character ",
    "unexpected EOF",
    "json: cannot unmarshal ",
    "EOF",
    "no credentials server URL",
    "no credentials username",
    "bufio.Scanner: token too long",
)


@FAST
@given(stdin_bytes())
def test_store_decode_only_raises_protocol_errors(data: bytes) -> None:
    try:
        request = read_store_request(io.BytesIO(data))
    except ProtocolError as err:
        message = str(err)
        assert message.startswith(STORE_PREFIXES), message
        assert "\n" not in message
        return
    assert request.server_url
    assert request.username


# Bytes that cannot start a JSON value (nor are JSON whitespace).
NOT_A_VALUE_START = st.integers(0, 255).filter(lambda b: chr(b) not in ' \t\r\n{["-0123456789tfn')


@FAST
@given(NOT_A_VALUE_START, st.binary(max_size=10))
@example(ord("x"), b"")
@example(ord("'"), b"")
def test_store_bad_first_byte_prints_gos_message(first: int, rest: bytes) -> None:
    """Go: ``invalid character <quoteChar(byte)> looking for beginning of value``.

    BUG (src/_protocol.py ``_go_decode_message``): Go's scanner works on bytes and quotes the
    byte as a rune with ``strconv.Quote``: ``\\x01`` -> ``'\\x01'``, ``\\\\`` -> ``'\\\\'``,
    ``\\x7f`` -> ``'\\x7f'``, ``\\xa0`` -> ``'\\u00a0'``, ``\\xc3\\xa9`` -> ``'Ã'`` (UTF-8 of
    U+00C3). Ours prints the decoded character raw: a raw control byte, ``'é'``, a raw invalid
    byte. Checked against Debian's Go build (ECR_GO_HELPER, unpacked into build/peers/).
    """
    data = bytes([first]) + rest
    if b"\n" in data or b"\r" in data:
        data = data.replace(b"\n", b"").replace(b"\r", b"")
    with pytest.raises(ProtocolError) as caught:
        read_store_request(io.BytesIO(data))
    got = str(caught.value).encode("utf-8", "surrogateescape")
    assert got == b"invalid character " + go_quote_char(first) + b" looking for beginning of value"


@pytest.mark.parametrize(
    ("stdin", "go_says"),
    [
        # Go's Decoder answers io.ErrUnexpectedEOF for any incomplete value at EOF.
        (b"tru", "unexpected EOF"),
        (b"nul", "unexpected EOF"),
        (b"-", "unexpected EOF"),
        (b"1.", "unexpected EOF"),
        (b'"abc', "unexpected EOF"),
        (b'{"ServerURL":"x', "unexpected EOF"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
        (b"-Infinity", "invalid character 'I' in numeric literal"),
        (b'{"a":tx}', "invalid character 'x' in literal true (expecting 'r')"),
        (b'{"ServerURL":"x\x01"}', "invalid character '\\x01' in string literal"),
        (b'"\\x"', "invalid character 'x' in string escape code"),
        # Ones we already get right, for contrast.
        (b"", "EOF"),
        (b"[1", "unexpected EOF"),
        (b"{", "unexpected EOF"),
        (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b"01", "json: cannot unmarshal number into Go value of type credentials.Credentials"),
        (b'{"ServerURL":"\\u0001"}', "no credentials username"),
    ],
)
def test_store_decode_messages_match_go(stdin: bytes, go_says: str) -> None:
    """Every expectation was printed by Debian's Go helper's store (build/peers/)."""
    with pytest.raises(ProtocolError) as caught:
        read_store_request(io.BytesIO(stdin))
    assert str(caught.value) == go_says


# --------------------------------------------------------------------------------------------
# 2. The registry parser, in process
# --------------------------------------------------------------------------------------------


def check_accepted(registry: Registry) -> None:
    host = registry.host
    assert host.isascii() and host == host.lower()
    assert set(host) <= HOST_CHARS, host
    assert host in PUBLIC_HOSTS or any(host.endswith("." + s) for s in SUFFIXES), host
    assert parse(host) == registry


@FAST
@given(st.one_of(st.text(), st.text("0123456789.dkrecfips-_usawonm:/@?#", max_size=80)))
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com")
@example("\x1c123456789012.dkr.ecr.us-east-1.amazonaws.com")
def test_parse_arbitrary_text_never_raises(text: str) -> None:
    registry = parse(text)
    if registry is not None:
        check_accepted(registry)


@FAST
@given(private_hosts().flatmap(lambda pair: st.tuples(st.just(pair), decorated(pair[0]))))
def test_parse_accepts_decorated_private_hosts(
    case: tuple[tuple[str, dict[str, object]], str],
) -> None:
    (host, fields), text = case
    registry = parse(text)
    assert registry is not None, text
    assert registry.host == host
    assert registry.service == "ecr"
    for name, value in fields.items():
        assert getattr(registry, name) == value, (text, name)
    check_accepted(registry)


@FAST
@given(
    st.sampled_from(PUBLIC_HOSTS).flatmap(lambda host: st.tuples(st.just(host), decorated(host)))
)
def test_parse_accepts_decorated_public_hosts(case: tuple[str, str]) -> None:
    host, text = case
    registry = parse(text)
    assert registry is not None, text
    assert registry.host == host
    assert registry.is_public
    check_accepted(registry)


BAD_HOST_CHAR = st.characters(blacklist_categories=["Cs"]).filter(
    lambda ch: ch.lower() not in HOST_CHARS and ch not in "/?#@:" and not ch.isspace()
)


@FAST
@given(ACCEPTED_HOSTS, BAD_HOST_CHAR, st.integers(0, 100), st.sampled_from(["", "https://"]))
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "%", 0, "")
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "é", 25, "")
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "\u212a", 25, "")
def test_parse_rejects_hosts_with_foreign_characters(
    host: str, bad: str, where: int, scheme: str
) -> None:
    """U+212A KELVIN SIGN lower-cases to ASCII ``k`` and must not slip into a region or ``dkr``."""
    where %= len(host) + 1
    text = scheme + host[:where] + bad + host[where:]
    assert parse(text) is None, text


@FAST
@given(ACCEPTED_HOSTS, LABEL)
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "cn")
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "evil")
@example("public.ecr.aws", "evil")
def test_parse_rejects_extra_trailing_labels(host: str, label: str) -> None:
    spoof = host + "." + label
    registry = parse(spoof)
    if registry is None:
        return
    # Only a real, longer suffix may take the label: amazonaws.com + .cn is amazonaws.com.cn.
    old = parse(host)
    assert old is not None and not old.is_public
    assert old.suffix + "." + label in SUFFIXES, spoof
    check_accepted(registry)


@FAST
@given(ACCEPTED_HOSTS, LABEL, st.sampled_from(["", "https://"]))
@example("123456789012.dkr.ecr.us-east-1.amazonaws.com", "evil", "")
@example("public.ecr.aws", "x", "https://")
def test_parse_rejects_extra_leading_labels(host: str, label: str, scheme: str) -> None:
    assert parse(scheme + label + "." + host) is None


# --------------------------------------------------------------------------------------------
# 3. The whole program (``_cli.run``, as the console script runs it), in process
# --------------------------------------------------------------------------------------------


def expected_verb(verb: str, data: bytes) -> bytes | None:
    """The exact stdout of a verb without credentials; ``None`` when only the shape is known."""
    if verb == "version":
        return VERSION
    if verb == "list":
        return b"{}\n"  # stdin is never read; nothing cached, no region to prime
    try:
        glued = go_scan_lines(data)
    except TooLong:
        return TOO_LONG
    if verb in ("get", "erase"):
        if not glued.decode("utf-8", "surrogateescape").strip(GO_SPACE):
            return MISSING_URL
        return NOT_FOUND if verb == "get" else NOT_IMPLEMENTED
    if not glued.strip(b" \t\r\n"):
        return b"EOF\n"
    return None  # store: one decode / validation message line


@SLOW
@given(st.sampled_from(VERBS), stdin_bytes())
@example("get", b"123456789012.dkr.ecr.us-east-1.amazonaws.com\n")
@example("store", b'{"ServerURL":"x","Username":"u","Secret":""}\n')
@example("store", b"\xff")
def test_verbs_on_any_stdin(verb: str, data: bytes) -> None:
    result = run_isolated([verb], data)
    assert_clean(result)
    expected = expected_verb(verb, data)
    if expected is not None:
        assert result.stdout == expected, (verb, data[:200], result)
    else:
        assert_one_line(result.stdout)
        assert result.stdout in (NOT_IMPLEMENTED, MISSING_URL, MISSING_USER) or (
            result.stdout.startswith(
                (b"invalid character ", b"unexpected EOF", b"json: cannot unmarshal ")
            )
        ), result
    assert result.returncode == (0 if verb in ("list", "version") else 1), result


ARG = st.one_of(
    st.sampled_from(
        [*VERBS, "-v", "--version", "-h", "--help", "--v", "-version", "help", "GET", ""]
    ),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12),
)


def expected_argv(args: list[str]) -> tuple[bytes, int]:
    if len(args) != 1:
        return USAGE, 1
    action = args[0]
    if action in ("-h", "--help"):
        return HELP, 0
    if action == "version":
        return VERSION, 0
    if action in ("get", "erase"):
        return MISSING_URL, 1
    if action == "store":
        return b"EOF\n", 1
    if action == "list":
        return b"{}\n", 0
    return b"docker-credential-ecr-login: unknown action: " + os.fsencode(action) + b"\n", 1


@settings(SLOW, max_examples=100)
@given(st.lists(ARG, max_size=4).filter(lambda a: not a or a[0] not in EXTRA_COMMANDS))
@example([])
@example(["get", "extra"])
@example(["get", "-v"])
@example(["foo\nbar"])
@example(["é"])
def test_any_argv(args: list[str]) -> None:
    result = run_isolated(args)
    assert_clean(result)
    if args in (["-v"], ["--version"]):
        assert result.returncode == 0
        assert result.stdout.startswith(b"docker-credential-ecr-py: Amazon ECR credential helper")
        assert f"\nVersion:    {__version__}\n".encode() in result.stdout
        return
    assert (result.stdout, result.returncode) == expected_argv(args), result


@settings(SLOW, max_examples=20)
@given(
    st.sampled_from(EXTRA_COMMANDS),
    st.lists(
        st.one_of(
            st.sampled_from(["--dry-run", "--help", "-h", "--region", "public.ecr.aws", "x"]),
            st.text(
                st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                max_size=10,
            ),
        ),
        max_size=4,
    ),
)
@example("doctor", [])
@example("configure-docker", [])
@example("cache", ["--bogus"])
def test_extra_commands_never_trace(name: str, args: list[str]) -> None:
    result = run_isolated([name, *args])
    assert b"Traceback" not in result.stdout, result
    assert b"Traceback" not in result.stderr, result
    assert result.returncode in (0, 1, 2), result
