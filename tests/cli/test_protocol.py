"""The credential-helper protocol byte for byte, through ``_cli.run`` in process.

Every test goes through ``helper_exe``, which is ``IN_PROCESS`` here; ``tests/frozen/
test_entrypoints.py`` runs a chosen set of these same tests against every build as a subprocess.
Expected bytes come from docker-credential-helpers ``credentials.Serve`` (v0.8+) and Go's
``encoding/json``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from docker_credential_ecr_py import __version__
from docker_credential_ecr_py._commands import HELP as HELP_TEXT
from support import HOST, IN_PROCESS, run_helper
from support.standin import StandIn

NAME = "docker-credential-ecr-login"
USAGE = b"Usage: docker-credential-ecr-login <store|get|erase|list|version>\n"
HELP = HELP_TEXT.encode()
# What --help must name, each at the start of its own line: every verb and every command.
HELP_NAMES = [
    "get",
    "list",
    "store, erase",
    "version",
    "configure-docker",
    "gitlab-auth-config",
    "doctor",
    "cache",
    "kubelet-credential-provider",
    "-h, --help",
    "-v, --version",
]
NOT_FOUND = b"credentials not found in native keychain\n"
NO_URL = b"no credentials server URL\n"
NO_USER = b"no credentials username\n"
NOT_IMPLEMENTED = b"not implemented\n"
TOO_LONG = b"bufio.Scanner: token too long\n"
# A password with everything Go's encoder treats specially: HTML characters, U+2028, non-ASCII
# (written raw), a quote and a backslash.
PASSWORD_TEMPLATE = 'p<&>\u2028é"\\{serial}'


def go_json(text: str) -> bytes:
    """A JSON string as Go's ``encoding/json`` writes it (HTML-escaped, raw UTF-8).

    Written independently of the helper's encoder: stdlib json plus Go's extra escapes.
    """
    out = json.dumps(text, ensure_ascii=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        out = out.replace(ch, esc)
    return out.encode("utf-8")


def credentials(server_url: bytes, secret: str, username: str = "AWS") -> bytes:
    """``json.NewEncoder(w).Encode(Credentials{...})``; ``server_url`` already JSON-escaped."""
    return (
        b'{"ServerURL":"'
        + server_url
        + b'","Username":'
        + go_json(username)
        + b',"Secret":'
        + go_json(secret)
        + b"}\n"
    )


def check(
    result: subprocess.CompletedProcess[bytes], stdout: bytes, code: int, stderr: bytes = b""
) -> None:
    """Exact stdout, exit status and stderr; never a traceback."""
    assert b"Traceback" not in result.stderr
    assert b"Traceback" not in result.stdout
    assert (result.stdout, result.returncode, result.stderr) == (stdout, code, stderr)


@pytest.fixture
def helper_exe() -> str:
    """The protocol in process; the builds' entry points are proven in tests/frozen."""
    return IN_PROCESS


@pytest.fixture
def pw_standin(standin: StandIn) -> StandIn:
    standin.configure(password_template=PASSWORD_TEMPLATE)
    return standin


def password(serial: int) -> str:
    return PASSWORD_TEMPLATE.format(serial=serial)


# -- get -------------------------------------------------------------------------------------


def test_get_private_escaping_is_go_exact(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    env["AWS_ECR_LOG_LEVEL"] = "debug"  # as much log as possible: none of it may reach stdout
    result = run_helper(helper_exe, ["get"], HOST.encode(), env)
    # Literal bytes, not derived: \u003c \u0026 \u003e \u2028, raw é, escaped quote and backslash.
    literal = (
        b'{"ServerURL":"123456789012.dkr.ecr.eu-west-2.amazonaws.com","Username":"AWS",'
        b'"Secret":"p\\u003c\\u0026\\u003e\\u2028\xc3\xa9\\"\\\\1"}\n'
    )
    check(result, literal, 0)
    assert result.stdout == credentials(HOST.encode(), password(1))
    calls = pw_standin.snapshot()
    assert [(c.service, c.region, c.status) for c in calls] == [("ecr", "eu-west-2", 200)]
    assert calls[0].registry_ids == ["123456789012"]


# (id, stdin, the ServerURL echoed: the input after line gluing and TrimSpace, JSON-escaped)
ECHO_CASES = [
    ("bare", HOST.encode(), HOST.encode()),
    ("newline", HOST.encode() + b"\n", HOST.encode()),
    ("crlf", HOST.encode() + b"\r\n", HOST.encode()),
    ("trim-space", b"  \t" + HOST.encode() + b" \r\n\n", HOST.encode()),
    ("trim-unicode-space", b"\xc2\xa0" + HOST.encode() + b"\xe3\x80\x80", HOST.encode()),
    ("https-v2-kept", f"https://{HOST}/v2/".encode(), f"https://{HOST}/v2/".encode()),
    ("https-v2-newline", f"https://{HOST}/v2/\n".encode(), f"https://{HOST}/v2/".encode()),
    ("upper-port-kept", f"{HOST.upper()}:443".encode(), f"{HOST.upper()}:443".encode()),
    (
        "multi-line-glued",
        b"https://123456789012.dkr.ecr.\neu-west-2.amazon\r\naws.com",
        f"https://{HOST}".encode(),
    ),
    (
        "path-raw-utf8-html-escaped",
        HOST.encode() + b"/r\xc3\xa9\xe2\x80\xa9po<&>",
        HOST.encode() + b"/r\xc3\xa9\\u2029po\\u003c\\u0026\\u003e",
    ),
    # Go's url.Parse rejects control characters, so only printable specials are echoed here.
    ("path-quote-backslash", HOST.encode() + b'/a"b\\c', HOST.encode() + b'/a\\"b\\\\c'),
    ("invalid-utf8-ff", HOST.encode() + b"/\xff", HOST.encode() + b"/\\ufffd"),
    (
        "invalid-utf8-truncated-and-surrogate",
        HOST.encode() + b"/\xff\xe2\x82x\xed\xa0\x80",
        HOST.encode() + b"/\\ufffd\\ufffd\\ufffdx\\ufffd\\ufffd\\ufffd",
    ),
]


def test_get_echoes_trimmed_input(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    # One AWS call, then cache hits: every form names the same registry.
    wrong = {}
    for case, stdin, echo in ECHO_CASES:
        result = run_helper(helper_exe, ["get"], stdin, env)
        got = (result.stdout, result.returncode, result.stderr)
        if got != (credentials(echo, password(1)), 0, b""):
            wrong[case] = got
    assert wrong == {}
    assert pw_standin.count("ecr") == 1


def test_get_longest_line_is_accepted(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    # 65535 bytes (bufio.MaxScanTokenSize - 1) is still one token.
    line = HOST.encode() + b"/" + b"a" * (65535 - len(HOST) - 1)
    assert len(line) == 65535
    check(run_helper(helper_exe, ["get"], line + b"\n", env), credentials(line, password(1)), 0)
    check(run_helper(helper_exe, ["get"], b"a" * 65535, env), NOT_FOUND, 1)


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(b"a" * 65536, id="64KiB"),
        pytest.param(b"a" * 65536 + b"\n", id="64KiB-newline"),
        pytest.param(b"a" * 65535 + b"\r\n", id="64KiB-with-cr"),
        pytest.param(HOST.encode() + b"\n" + b"a" * 70000, id="second-line"),
        pytest.param(HOST.encode() + b"/" + b"a" * 100000, id="ecr-host-long-path"),
    ],
)
def test_get_token_too_long(
    helper_exe: str, env: dict[str, str], standin: StandIn, stdin: bytes
) -> None:
    check(run_helper(helper_exe, ["get"], stdin, env), TOO_LONG, 1)
    assert standin.count() == 0


# Past 1 MiB glued (_protocol.GLUED_MAX) the helper stops reading (tests/cli/test_stdin_bounds.py).


def test_get_host_then_megabytes_of_blank_lines_is_the_host(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    # Go reads it all and TrimSpace drops the blanks; past 1 MiB they are squeezed, not counted.
    stdin = HOST.encode() + b"\n" + b" \t\r\n" * (1024 * 1024)
    check(run_helper(helper_exe, ["get"], stdin, env), credentials(HOST.encode(), password(1)), 0)
    assert pw_standin.count("ecr") == 1


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(
            HOST.encode() + b"/" + (b"a" * 1000 + b"\n") * 1100, id="long-path-short-lines"
        ),
        pytest.param(
            HOST.encode() + b"\n" + b" \n" * (1024 * 1024) + b"x", id="content-after-blanks"
        ),
    ],
)
def test_get_glued_url_over_1mib_is_token_too_long(
    helper_exe: str, env: dict[str, str], standin: StandIn, stdin: bytes
) -> None:
    check(run_helper(helper_exe, ["get"], stdin, env), TOO_LONG, 1)
    assert standin.count() == 0


PUBLIC_FORMS = [
    b"public.ecr.aws",
    b"https://public.ecr.aws",
    b"https://public.ecr.aws/amazonlinux\n",
    b"ecr-public.aws.com",
    b"https://ecr-public.aws.com/v2/",
]


@pytest.mark.parametrize("first", [b"public.ecr.aws", b"ecr-public.aws.com"])
def test_get_ecr_public(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn, first: bytes
) -> None:
    env["AWS_REGION"] = "eu-west-2"  # ECR Public is called in us-east-1 whatever the region
    check(run_helper(helper_exe, ["get"], first, env), credentials(first, password(1)), 0)
    calls = pw_standin.snapshot()
    assert [(c.service, c.region, c.status) for c in calls] == [("ecr-public", "us-east-1", 200)]
    # Both public hosts share one cache entry (as upstream): the other forms are cache hits.
    for stdin in PUBLIC_FORMS:
        echo = stdin.strip()
        check(run_helper(helper_exe, ["get"], stdin, env), credentials(echo, password(1)), 0)
    assert pw_standin.count() == 1


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(b"example.com", id="other-host"),
        pytest.param(b"https://index.docker.io/v1/", id="docker-hub"),
        pytest.param(b"not-ecr-server-url\n", id="upstream-no-match"),
        pytest.param(HOST.encode() + b".evil.com", id="spoof-suffix"),
        pytest.param(b"https://https://" + HOST.encode(), id="double-scheme"),
        pytest.param(b"\xff\xfe", id="invalid-utf8"),
        pytest.param(b"a" * 65535, id="65535-bytes"),
    ],
)
def test_get_not_ecr_is_not_found_and_silent(
    helper_exe: str, env: dict[str, str], standin: StandIn, stdin: bytes
) -> None:
    check(run_helper(helper_exe, ["get"], stdin, env), NOT_FOUND, 1, stderr=b"")
    assert standin.count() == 0


def test_get_aws_failure_is_not_found(
    helper_exe: str, env: dict[str, str], standin: StandIn
) -> None:
    standin.configure(default_fault="denied")
    result = run_helper(helper_exe, ["get"], HOST.encode(), env)
    assert (result.stdout, result.returncode) == (NOT_FOUND, 1)
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("action", ["get", "erase"])
@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\n", id="newline"),
        pytest.param(b" \t\r\n \n\x0b\x0c", id="whitespace"),
        pytest.param(b"\xc2\xa0\xe2\x80\xa8", id="unicode-space"),
    ],
)
def test_missing_server_url(
    helper_exe: str, env: dict[str, str], standin: StandIn, action: str, stdin: bytes
) -> None:
    check(run_helper(helper_exe, [action], stdin, env), NO_URL, 1)
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, [action], stdin, env), NO_URL, 1)
    assert standin.count() == 0


# -- list ------------------------------------------------------------------------------------


def test_list_empty(helper_exe: str, env: dict[str, str], standin: StandIn) -> None:
    assert "AWS_REGION" not in env and "AWS_DEFAULT_REGION" not in env
    check(run_helper(helper_exe, ["list"], None, env), b"{}\n", 0)
    check(run_helper(helper_exe, ["list"], b"unused", env), b"{}\n", 0)  # what Go clients send
    assert standin.count() == 0


def test_list_after_gets_is_sorted_and_compact(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    check(
        run_helper(helper_exe, ["get"], b"public.ecr.aws", env),
        credentials(b"public.ecr.aws", password(1)),
        0,
    )
    check(
        run_helper(helper_exe, ["get"], HOST.encode(), env),
        credentials(HOST.encode(), password(2)),
        0,
    )
    expected = b'{"https://' + HOST.encode() + b'":"AWS","https://public.ecr.aws":"AWS"}\n'
    check(run_helper(helper_exe, ["list"], None, env), expected, 0)
    assert pw_standin.count() == 2


def test_list_primes_default_registry(
    helper_exe: str, env: dict[str, str], standin: StandIn
) -> None:
    env["AWS_REGION"] = "eu-west-2"
    expected = b'{"https://' + HOST.encode() + b'":"AWS"}\n'
    check(run_helper(helper_exe, ["list"], None, env), expected, 0)
    check(run_helper(helper_exe, ["list"], None, env), expected, 0)  # now from the cache
    assert standin.count("ecr") == 1


# -- version, usage, unknown actions ---------------------------------------------------------


def test_version_action(helper_exe: str, env: dict[str, str]) -> None:
    expected = f"{NAME} (docker-credential-ecr-py) {__version__}\n".encode()
    check(run_helper(helper_exe, ["version"], None, env), expected, 0)


@pytest.mark.parametrize("flag", ["-v", "--version"])
def test_version_flag(helper_exe: str, env: dict[str, str], flag: str) -> None:
    result = run_helper(helper_exe, [flag], None, env)
    assert (result.returncode, result.stderr) == (0, b"")
    lines = result.stdout.decode().splitlines()
    assert result.stdout.endswith(b"\n")
    assert f"Version:    {__version__}" in lines
    assert any(line.startswith("Build:      ") and line[12:].strip() for line in lines)


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_flag(helper_exe: str, env: dict[str, str], flag: str) -> None:
    check(run_helper(helper_exe, [flag], None, env), HELP, 0)


def test_help_lists_every_verb_and_command() -> None:
    from docker_credential_ecr_py import _cli
    from docker_credential_ecr_py._commands import NAMES

    lines = HELP_TEXT.splitlines()
    assert lines[0] == USAGE.decode().rstrip("\n")  # the protocol's usage line comes first
    starts = [line[2:] for line in lines if line.startswith("  ") and line[2] != " "]
    for name in HELP_NAMES:
        assert any(start.startswith(name) for start in starts), name
    # Every command the CLI dispatches is named (a new one cannot be left out of --help).
    named = {name for start in starts for name in start.split("  ")[0].split(", ")}
    for name in (*_cli.COMMANDS, *NAMES, _cli.KUBELET, *_cli._VERBS):
        assert name in named, name
    assert "Exit status:" in HELP_TEXT
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-args"),
        pytest.param(["get", "extra"], id="get-extra"),
        pytest.param(["get", "-v"], id="get-v"),
        pytest.param(["-v", "get"], id="v-get"),
        pytest.param(["list", "list"], id="list-list"),
    ],
)
def test_usage(helper_exe: str, env: dict[str, str], args: list[str]) -> None:
    check(run_helper(helper_exe, args, HOST.encode(), env), USAGE, 1)


@pytest.mark.parametrize("action", ["foo", "GET", "", "-x", "help"])
def test_unknown_action(helper_exe: str, env: dict[str, str], action: str) -> None:
    # stdout: the protocol's exact line; stderr: the help, for whoever typed it.
    expected = f"{NAME}: unknown action: {action}\n".encode()
    check(run_helper(helper_exe, [action], HOST.encode(), env), expected, 1, HELP)


# -- store and erase -------------------------------------------------------------------------

GO_STORE = b'{"ServerURL":"' + HOST.encode() + b'","Username":"AWS","Secret":"p\\u003cw"}\n'
PY_STORE = json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": "pw"}).encode()


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(GO_STORE, id="go-compact-newline"),
        pytest.param(PY_STORE, id="python-json-dumps"),
        pytest.param(b'{"serverurl":"h","username":"u","secret":"s"}', id="lower-case-keys"),
        pytest.param(b'{"SERVERURL":"h","USERNAME":"u"}', id="upper-case-keys-no-secret"),
        pytest.param(b'{"ServerURL":"h","Username":"u","Secret":""}', id="empty-secret"),
        pytest.param(b'{"ServerURL":"h","Username":"u","Secret":null}', id="null-secret"),
        pytest.param(b'{"ServerURL":"h","Username":"u","Extra":[1,{}]}', id="unknown-field"),
        pytest.param(b'{"ServerURL":"","ServerURL":"h","Username":"u"}', id="duplicate-last-wins"),
        pytest.param(b'{"ServerURL":"h","Username":"u"} trailing junk', id="first-value-only"),
        pytest.param(b'{"ServerURL":\n"h",\r\n"Username":"u"}\n', id="multi-line"),
    ],
)
def test_store_valid_input(
    helper_exe: str, env: dict[str, str], standin: StandIn, stdin: bytes
) -> None:
    check(run_helper(helper_exe, ["store"], stdin, env), NOT_IMPLEMENTED, 1)
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, ["store"], stdin, env), b"", 0)
    assert standin.count() == 0


def test_store_then_megabytes_of_blank_lines_is_the_payload_alone(
    helper_exe: str, env: dict[str, str], standin: StandIn
) -> None:
    stdin = GO_STORE + b"\r\n \n" * (1024 * 1024)
    check(run_helper(helper_exe, ["store"], stdin, env), NOT_IMPLEMENTED, 1)
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, ["store"], stdin, env), b"", 0)
    # Content after them makes the input longer than GLUED_MAX (Go would read on, then ignore it).
    check(run_helper(helper_exe, ["store"], stdin + b"}", env), TOO_LONG, 1)
    assert standin.count() == 0


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        pytest.param(b"", b"EOF\n", id="empty"),
        pytest.param(b"\n\r\n  \n", b"EOF\n", id="blank-lines"),
        pytest.param(b'{"ServerURL":"","Username":"u","Secret":"s"}', NO_URL, id="empty-url"),
        pytest.param(b'{"Username":"u","Secret":"s"}', NO_URL, id="missing-url"),
        pytest.param(b"{}", NO_URL, id="empty-object"),
        pytest.param(b'{"ServerURL":"h","Secret":"s"}', NO_USER, id="missing-username"),
        pytest.param(b'{"ServerURL":"h","Username":"","Secret":"s"}', NO_USER, id="empty-username"),
        pytest.param(b'{"ServerURL":"h","Username":null}', NO_USER, id="null-username"),
        pytest.param(
            b"xyz", b"invalid character 'x' looking for beginning of value\n", id="not-json"
        ),
        pytest.param(
            b'{"ServerURL" "h"}', b"invalid character '\"' after object key\n", id="missing-colon"
        ),
        pytest.param(
            b'{"ServerURL":"h" "Username":"u"}',
            b"invalid character '\"' after object key:value pair\n",
            id="missing-comma",
        ),
        pytest.param(
            b"{'ServerURL':'h'}",
            b"invalid character '\\'' looking for beginning of object key string\n",
            id="single-quotes",
        ),
        pytest.param(
            b'{"ServerURL":NaN,"Username":"u"}',
            b"invalid character 'N' looking for beginning of value\n",
            id="nan-is-not-json",
        ),
        pytest.param(b'{"ServerURL":"h"', b"unexpected EOF\n", id="truncated"),
        pytest.param(
            b'{"ServerURL":1,"Username":"u"}',
            b"json: cannot unmarshal number into Go struct field Credentials.ServerURL"
            b" of type string\n",
            id="number-url",
        ),
        pytest.param(
            b'{"serverurl":true,"Username":"u"}',
            b"json: cannot unmarshal bool into Go struct field Credentials.ServerURL"
            b" of type string\n",
            id="bool-url-lower-key",
        ),
        pytest.param(
            b'{"ServerURL":"h","Username":["u"]}',
            b"json: cannot unmarshal array into Go struct field Credentials.Username"
            b" of type string\n",
            id="array-username",
        ),
        pytest.param(
            b'{"ServerURL":"h","Username":"u","Secret":{"a":"b"}}',
            b"json: cannot unmarshal object into Go struct field Credentials.Secret"
            b" of type string\n",
            id="object-secret",
        ),
        pytest.param(
            b'"h"',
            b"json: cannot unmarshal string into Go value of type credentials.Credentials\n",
            id="top-level-string",
        ),
        pytest.param(
            b"[]",
            b"json: cannot unmarshal array into Go value of type credentials.Credentials\n",
            id="top-level-empty-array",
        ),
        pytest.param(
            b'[["ServerURL","h"],["Username","u"]]',
            b"json: cannot unmarshal array into Go value of type credentials.Credentials\n",
            id="top-level-array-of-pairs",
        ),
        # Go: JSON null into a struct is a no-op without error, so validation runs on empty fields.
        pytest.param(b"null", NO_URL, id="top-level-null"),
    ],
)
def test_store_invalid_input(
    helper_exe: str, env: dict[str, str], stdin: bytes, expected: bytes
) -> None:
    # Validation happens before the helper's Add, so the opt-in variable changes nothing.
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, ["store"], stdin, env), expected, 1)


@pytest.mark.parametrize("value", [None, "TRUE", "True", "1", "yes", "false", "", " true"])
@pytest.mark.parametrize("action", ["store", "erase"])
def test_store_erase_not_implemented(
    helper_exe: str, env: dict[str, str], action: str, value: str | None
) -> None:
    if value is not None:
        env["AWS_ECR_IGNORE_CREDS_STORAGE"] = value
    stdin = PY_STORE if action == "store" else HOST.encode()
    check(run_helper(helper_exe, [action], stdin, env), NOT_IMPLEMENTED, 1)


def test_erase_ignored(helper_exe: str, env: dict[str, str], standin: StandIn) -> None:
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, ["erase"], HOST.encode() + b"\n", env), b"", 0)
    check(run_helper(helper_exe, ["erase"], b"example.com", env), b"", 0)
    assert standin.count() == 0


def test_logs_go_to_the_log_file_only(
    helper_exe: str, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    env["AWS_ECR_LOG_LEVEL"] = "debug"
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    secret = "s3cr3t-Store-Value-42"
    payload = json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": secret}).encode()
    check(run_helper(helper_exe, ["store"], payload, env), b"", 0)
    check(run_helper(helper_exe, ["get"], b"example.com", env), NOT_FOUND, 1)
    log = home / ".ecr" / "log" / "ecr-login.log"
    assert log.is_file()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "store" in text
    assert secret not in text


def test_in_process_runs_hold_no_file_open(env: dict[str, str], standin: StandIn) -> None:
    # Each run closes its log: a long-lived caller of _cli.run must not run out of descriptors.
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"  # store logs a warning line: the log is opened
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        check(run_helper(IN_PROCESS, ["store"], GO_STORE, env), b"", 0)
    assert len(os.listdir("/proc/self/fd")) <= before + 1
