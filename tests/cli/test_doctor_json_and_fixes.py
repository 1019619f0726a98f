"""doctor's machine-readable report and the answers it gives in the cases users hit first:
a host that is not ECR, a malformed DOCKER_AUTH_CONFIG, Docker CLI 28.3+ in a job, an endpoint
override (and plain HTTP), an HTML page where AWS should answer, checks that could not run, and
a credsStore that GitLab Runner would never ask about a registry. Also ``cache show --json``,
the empty cache, and every command's exit statuses in its ``--help``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support import HOST, Runner

CENTRAL = "111122223333.dkr.ecr.eu-west-2.amazonaws.com"
STATUSES = {"ok", "info", "warn", "fail", "skip"}


@pytest.fixture
def denv(env: dict[str, str], moto_server: str) -> dict[str, str]:
    env = dict(env)
    env["AWS_ENDPOINT_URL_STS"] = moto_server
    return env


def report(run: Runner, args: list[str], env: dict[str, str]) -> tuple[int, dict[str, object]]:
    proc = run(["doctor", "--json", *args], env_=env)
    assert proc.stdout.endswith(b"\n")
    return proc.returncode, json.loads(proc.stdout)


def checks(doc: dict[str, object]) -> list[dict[str, str]]:
    found = doc["checks"]
    assert isinstance(found, list)
    return found


def by_name(doc: dict[str, object], name: str) -> list[dict[str, str]]:
    return [c for c in checks(doc) if c["check"] == name]


def routed(home: Path, config: dict[str, object]) -> None:
    (home / ".docker").mkdir(exist_ok=True)
    (home / ".docker" / "config.json").write_text(json.dumps(config))


# --- doctor --json ------------------------------------------------------------------------------


def test_json_report_of_a_working_setup(run: Runner, denv: dict[str, str], home: Path) -> None:
    routed(home, {"credHelpers": {HOST: "ecr-login"}})
    code, doc = report(run, [HOST], denv)
    assert code == 0
    assert doc["ok"] is True and doc["failed"] == 0 and doc["registry"] == HOST
    assert doc["host"] == HOST and isinstance(doc["seconds"], float)
    names = [c["check"] for c in checks(doc)]
    for name in ("helper", "PATH", "identity", "region", "endpoint", "cache", "routing", "token"):
        assert name in names
    for check in checks(doc):
        assert set(check) == {"status", "check", "detail", "fix"}
        assert check["status"] in STATUSES
    # The text report carries the same checks, in the same order.
    text = run(["doctor", HOST], env_=denv).stdout.decode().splitlines()
    assert [line.split()[1] for line in text[1:-1] if not line.startswith("        ")] == names


def test_json_report_fails_as_the_text_does(run: Runner, denv: dict[str, str]) -> None:
    denv["AWS_ENDPOINT_URL_ECR"] = "http://127.0.0.1:9"  # nothing listens on discard
    denv["AWS_ECR_TIMEOUT"] = "2"
    code, doc = report(run, [HOST], denv)
    assert code == 1 and doc["ok"] is False and doc["failed"] != 0
    token = by_name(doc, "token")[0]
    assert token["status"] == "fail" and "EndpointConnectionError" in token["detail"]
    assert token["fix"]


# --- a host that is not ECR, and checks that could not run ---------------------------------------


def test_a_non_ecr_host_is_named_as_such_and_the_rest_is_skipped(
    run: Runner, denv: dict[str, str]
) -> None:
    code, doc = report(run, ["registry.gitlab.com"], denv)
    assert code == 1
    registry = by_name(doc, "registry")[0]
    assert registry["status"] == "fail" and "is not an Amazon ECR" in registry["detail"]
    text = json.dumps(doc)
    assert "no HOST given" not in text
    identity = by_name(doc, "identity")[0]
    assert identity["status"] == "skip"
    assert "registry.gitlab.com is not an ECR registry" in identity["detail"]
    for name in ("region", "endpoint", "routing", "token"):
        [line] = by_name(doc, name)
        assert line["status"] == "skip", line
        assert "needs an ECR registry: registry.gitlab.com is not one" in line["detail"]
    assert doc["skipped"] == 5


def test_skipped_checks_are_counted_in_the_text_report(run: Runner, denv: dict[str, str]) -> None:
    denv["AWS_REGION"] = "eu-west-2"
    text = run(["doctor", "quay.io"], env_=denv).stdout.decode()
    assert "  skip  token      needs an ECR registry: quay.io is not one" in text
    assert text.splitlines()[-1].startswith("result: 1 failed, ")
    assert "4 skipped" in text.splitlines()[-1]


# --- DOCKER_AUTH_CONFIG ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('{"credHelpers":"ecr-login"}', "credHelpers that is not an object"),
        ('{"credsStore":{"a":"b"}}', "credsStore that is not a string"),
        ('{"credHelpers":{"x":"ecr-login"}', "is not valid JSON"),
        ('["ecr-login"]', "is not a JSON object"),
    ],
    ids=["credhelpers-string", "credsstore-object", "truncated", "array"],
)
def test_malformed_docker_auth_config_names_gitlab_auth_config(
    run: Runner, denv: dict[str, str], value: str, problem: str
) -> None:
    denv["DOCKER_AUTH_CONFIG"] = value
    code, doc = report(run, [HOST], denv)
    assert code == 1
    [line] = by_name(doc, "routing")
    assert line["status"] == "fail"
    assert line["detail"].startswith("DOCKER_AUTH_CONFIG is malformed: it ")
    assert problem in line["detail"]
    assert f"docker-credential-ecr-login gitlab-auth-config {HOST}" in line["fix"]


def _fake_docker(bin_dir: Path, version: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(f"#!/bin/sh\necho 'Docker version {version}, build 0000000'\n")
    docker.chmod(0o755)


@pytest.mark.parametrize(
    ("version", "in_job", "warned"),
    [
        ("28.3.0", True, True),
        ("29.1.2", True, True),
        ("28.2.2", True, False),
        ("28.3.0", False, False),
    ],
    ids=["28.3-in-job", "29-in-job", "28.2-in-job", "28.3-outside-a-job"],
)
def test_docker_cli_28_3_in_a_job_is_a_warning(
    run: Runner,
    denv: dict[str, str],
    tmp_path: Path,
    version: str,
    in_job: bool,
    warned: bool,
) -> None:
    _fake_docker(tmp_path / "docker-bin", version)
    denv["PATH"] = f"{tmp_path / 'docker-bin'}:{denv['PATH']}"
    denv["DOCKER_AUTH_CONFIG"] = json.dumps({"credHelpers": {HOST: "ecr-login"}})
    if in_job:
        denv["GITLAB_CI"] = "true"
    _, doc = report(run, [HOST], denv)
    lines = by_name(doc, "routing")
    warnings = [c for c in lines if c["status"] == "warn" and "Docker CLI" in c["detail"]]
    assert bool(warnings) is warned, lines
    if warned:
        assert f"Docker CLI {'.'.join(version.split('.')[:2])}" in warnings[0]["detail"]
        assert "unset DOCKER_AUTH_CONFIG" in warnings[0]["fix"]
    assert any(c["status"] == "ok" for c in lines)  # the routing itself is right


# --- endpoint -------------------------------------------------------------------------------------


def test_endpoint_names_the_variable_that_set_it(run: Runner, denv: dict[str, str]) -> None:
    _, doc = report(run, [HOST], denv)
    [line] = by_name(doc, "endpoint")
    assert line["status"] == "ok"  # plain HTTP to loopback: the token stays on this machine
    assert f"{denv['AWS_ENDPOINT_URL_ECR']} (set by AWS_ENDPOINT_URL_ECR)" in line["detail"]
    del denv["AWS_ENDPOINT_URL_ECR"]
    _, doc = report(run, [HOST], denv)
    assert by_name(doc, "endpoint")[0]["detail"].endswith("https://api.ecr.eu-west-2.amazonaws.com")


def test_plain_http_to_another_host_is_a_warning(run: Runner, denv: dict[str, str]) -> None:
    denv["AWS_ENDPOINT_URL"] = "http://ecr-proxy.internal.example:8080"
    del denv["AWS_ENDPOINT_URL_ECR"]
    denv["AWS_ECR_TIMEOUT"] = "1"
    _, doc = report(run, [HOST], denv)
    [line] = by_name(doc, "endpoint")
    assert line["status"] == "warn"
    assert "(set by AWS_ENDPOINT_URL)" in line["detail"] and "plain HTTP" in line["detail"]
    assert "https://" in line["fix"] and "AWS_ENDPOINT_URL" in line["fix"]


def test_endpoint_from_the_aws_config_file(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[default]\nendpoint_url = https://ecr.vpce.example.internal\n")
    denv["AWS_CONFIG_FILE"] = str(config)
    del denv["AWS_ENDPOINT_URL_ECR"]
    denv["AWS_ECR_TIMEOUT"] = "1"
    _, doc = report(run, [HOST], denv)
    [line] = by_name(doc, "endpoint")
    assert "https://ecr.vpce.example.internal" in line["detail"]
    assert "set by endpoint_url in the AWS config file" in line["detail"]


# --- an HTML page instead of AWS ------------------------------------------------------------------

PAGE = (
    b"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    b"<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@pytest.fixture
def html_proxy() -> Iterator[str]:
    class Page(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(403)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_html_page_is_one_line_that_says_so(
    run: Runner, denv: dict[str, str], html_proxy: str
) -> None:
    denv["AWS_ENDPOINT_URL_ECR"] = html_proxy
    denv["AWS_ENDPOINT_URL_STS"] = html_proxy
    proc = run(["doctor", HOST], env_=denv)
    text = proc.stdout.decode()
    for name in ("identity", "token"):
        [line] = [x for x in text.splitlines() if x.split()[1:2] == [name]]
        assert 'not an AWS answer: an HTML page "403 Forbidden"' in line, line
        assert "<html>" not in line and "nginx" not in line
    assert "something other than AWS answered" in text
    get = run(["get"], HOST.encode(), env_=denv)
    assert get.returncode == 1
    err = get.stderr.decode()
    assert (
        err.count("\n") == 1 and 'HTTP403: not an AWS answer: an HTML page "403 Forbidden"' in err
    )


# --- credsStore: what list names ------------------------------------------------------------------


def test_creds_store_for_a_registry_list_does_not_name_is_a_warning(
    run: Runner, denv: dict[str, str], home: Path
) -> None:
    routed(home, {"credsStore": "ecr-login"})
    _, doc = report(run, [CENTRAL], denv)
    [warning] = by_name(doc, "list")
    assert warning["status"] == "warn" and "GitLab Runner" in warning["detail"]
    assert f"configure-docker --creds-store {CENTRAL}" in warning["fix"]
    assert f"AWS_ECR_REGISTRIES={CENTRAL}" in warning["fix"]
    denv["AWS_ECR_REGISTRIES"] = CENTRAL  # declared: list names it
    _, doc = report(run, [CENTRAL], denv)
    assert by_name(doc, "list") == []
    assert by_name(doc, "routing")[0]["status"] == "ok"


def test_creds_store_and_the_callers_default_registry_need_nothing_declared(
    run: Runner, denv: dict[str, str], home: Path
) -> None:
    routed(home, {"credsStore": "ecr-login"})
    denv["AWS_REGION"] = "eu-west-2"
    _, doc = report(run, [HOST], denv)  # moto's caller account is HOST's
    assert by_name(doc, "list") == []


# --- cache show -----------------------------------------------------------------------------------


def test_cache_show_on_an_empty_cache_says_so(run: Runner, home: Path) -> None:
    proc = run(["cache", "show"])
    assert proc.returncode == 0
    assert proc.stdout.decode() == (
        f"{home}/.ecr/cache.json\n  no cached tokens (the first get of a registry fetches one)\n"
    )
    assert json.loads(run(["cache", "show", "--json"]).stdout) == {
        "path": f"{home}/.ecr/cache.json",
        "entries": [],
    }


def test_cache_show_json_lists_entries_without_tokens(run: Runner, home: Path) -> None:
    assert run(["get"], HOST.encode()).returncode == 0
    proc = run(["cache", "show", "--json"])
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    [entry] = doc["entries"]
    assert entry["registry"] == HOST and entry["whose"] == "you" and entry["state"] == "fresh"
    assert 11 * 3600 < entry["seconds_left"] <= 12 * 3600
    assert entry["expires"].endswith("Z") and entry["requested"].endswith("Z")
    cached = json.loads((home / ".ecr" / "cache.json").read_text())["Registries"]
    token = next(iter(cached.values()))["AuthorizationToken"]
    assert token not in proc.stdout.decode()


# --- exit statuses in --help ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["configure-docker", "gitlab-auth-config", "doctor", "cache", "kubelet-credential-provider"],
)
def test_every_command_documents_its_exit_statuses(run: Runner, command: str) -> None:
    proc = run([command, "--help"])
    assert proc.returncode == 0
    text = proc.stdout.decode()
    if command == "kubelet-credential-provider":
        assert "Exit status: 0 answered" in text
        return
    tail = text[text.index("\nexit status:\n") :]
    codes = [line.split()[0] for line in tail.splitlines()[2:] if line.strip()]
    assert codes[:2] == ["0", "1"] and "2" in codes
