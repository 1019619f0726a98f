"""Token fetches over real HTTP: the stand-in for ECR / ECR Public, moto's server for STS."""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import pytest

from support import HOST, Runner, closed_url, require, service_account_jwt, without_static_keys
from support.standin import Front, StandIn

PUBLIC = "public.ecr.aws"


def creds(out: bytes) -> dict[str, str]:
    value: dict[str, str] = json.loads(out)
    return value


def test_get_fetches_for_the_account_and_region_of_the_host(run: Runner, standin: StandIn) -> None:
    result = run(["get"], HOST.encode())
    assert result.returncode == 0, result
    assert creds(result.stdout) == {
        "ServerURL": HOST,
        "Username": "AWS",
        "Secret": "123456789012-eu-west-2-1",
    }
    (call,) = standin.calls
    assert (call.service, call.region, call.registry_ids) == ("ecr", "eu-west-2", ["123456789012"])


def test_second_get_is_served_from_the_cache(run: Runner, standin: StandIn) -> None:
    first = run(["get"], HOST.encode())
    second = run(["get"], f"https://{HOST}/v2/".encode())
    assert first.returncode == second.returncode == 0
    assert creds(first.stdout)["Secret"] == creds(second.stdout)["Secret"]
    assert creds(second.stdout)["ServerURL"] == f"https://{HOST}/v2/"
    assert standin.count() == 1


def test_token_keyed_by_requested_account_not_proxy_endpoint(run: Runner, standin: StandIn) -> None:
    # Some partitions and stand-ins answer with another host in proxyEndpoint.
    standin.proxy_endpoint_template = "https://{account}.dkr.ecr.{region}.example.invalid"
    assert run(["get"], HOST.encode()).returncode == 0
    assert run(["get"], HOST.encode()).returncode == 0
    assert standin.count() == 1


def test_public_registry_calls_ecr_public_in_us_east_1(run: Runner, standin: StandIn) -> None:
    result = run(["get"], PUBLIC.encode())
    assert result.returncode == 0, result
    assert creds(result.stdout)["Username"] == "AWS"
    (call,) = standin.calls
    assert (call.service, call.region) == ("ecr-public", "us-east-1")


def test_china_registry_calls_its_region(run: Runner, standin: StandIn) -> None:
    host = "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert run(["get"], host.encode()).returncode == 0
    (call,) = standin.calls
    assert (call.region, call.registry_ids) == ("cn-north-1", ["210987654321"])


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [
        pytest.param(
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
            "api.ecr-fips.us-east-1.amazonaws.com:443",
            id="fips",
        ),
        pytest.param(
            "123456789012.dkr-ecr.us-west-2.on.aws", "ecr.us-west-2.api.aws:443", id="dualstack"
        ),
        pytest.param(
            "123456789012.dkr-ecr-fips.us-gov-east-1.on.aws",
            "ecr-fips.us-gov-east-1.api.aws:443",
            id="dualstack-fips-govcloud",
        ),
        pytest.param(
            "123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "api.ecr.us-west-2.amazonaws.com:443",
            id="plain",
        ),
        pytest.param("ecr-public.aws.com", "ecr-public.us-east-1.api.aws:443", id="public-ds"),
    ],
)
def test_host_selects_the_api_endpoint_without_extra_variables(
    run: Runner, env: dict[str, str], standin: StandIn, host: str, endpoint: str
) -> None:
    # No endpoint override: the CONNECT through the proxy shows which endpoint botocore chose.
    env = {k: v for k, v in env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update({"HTTPS_PROXY": standin.url, "AWS_ECR_TIMEOUT": "2"})
    result = run(["get"], host.encode(), env_=env)
    assert result.stdout == b"credentials not found in native keychain\n"
    assert standin.connects[0] == endpoint


@pytest.fixture
def irsa_env(env: dict[str, str], moto_server: str, tmp_path: Path) -> dict[str, str]:
    token = tmp_path / "token"
    token.write_text(service_account_jwt("system:serviceaccount:ci:runner"))
    env = without_static_keys(env)
    env.update(
        {
            "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/irsa-runner",
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
            "AWS_ENDPOINT_URL_STS": moto_server,
        }
    )
    return env


def test_irsa_web_identity_through_sts(
    run: Runner, irsa_env: dict[str, str], standin: StandIn
) -> None:
    result = run(["get"], HOST.encode(), env_=irsa_env)
    assert result.returncode == 0, result
    (call,) = standin.calls
    # The ECR call was signed with the role's temporary key from STS, not a static key.
    assert call.access_key_id and call.access_key_id.startswith("ASIA")


def test_irsa_second_get_needs_no_sts_call(
    run: Runner, irsa_env: dict[str, str], standin: StandIn
) -> None:
    assert run(["get"], HOST.encode(), env_=irsa_env).returncode == 0
    # Break every network path (a proxy at a closed port): a hit must not need STS or ECR.
    dead = closed_url()
    irsa_env.update({"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead})
    result = run(["get"], HOST.encode(), env_=irsa_env)
    assert result.returncode == 0, result
    assert standin.count() == 1


def test_profile_from_config_files(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[ci]\naws_access_key_id = AKIDPROFILEKEY\naws_secret_access_key = profilesecret\n"
    )
    (aws / "config").write_text("[profile ci]\nregion = eu-west-2\n")
    env = without_static_keys(env)
    env["AWS_PROFILE"] = "ci"
    assert run(["get"], HOST.encode(), env_=env).returncode == 0
    assert standin.calls[0].access_key_id == "AKIDPROFILEKEY"


def test_assume_role_profile_through_sts(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn, moto_server: str
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[base]\naws_access_key_id = AKIDBASEKEY\naws_secret_access_key = basesecret\n"
    )
    (aws / "config").write_text(
        "[profile deploy]\nrole_arn = arn:aws:iam::111122223333:role/deploy\n"
        "source_profile = base\nregion = eu-west-2\n"
    )
    env = without_static_keys(env)
    env.update({"AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL_STS": moto_server})
    for _ in range(2):
        result = run(["get"], HOST.encode(), env_=env)
        assert result.returncode == 0, result
    assert standin.count() == 1
    assert (standin.calls[0].access_key_id or "").startswith("ASIA")


def test_access_denied_is_not_found_with_the_cause_on_stderr(run: Runner, standin: StandIn) -> None:
    standin.default_fault = "denied"
    result = run(["get"], HOST.encode())
    assert result.stdout == b"credentials not found in native keychain\n"
    assert result.returncode == 1
    assert b"AccessDeniedException" in result.stderr
    assert result.stderr.count(b"\n") == 1
    assert standin.count() == 1  # not retried


@pytest.mark.parametrize("fault", ["throttle", "http429", "5xx", "503"])
def test_throttling_and_5xx_are_retried(run: Runner, standin: StandIn, fault: str) -> None:
    standin.faults = [fault]
    result = run(["get"], HOST.encode())
    assert result.returncode == 0, result
    assert standin.count() == 2
    assert creds(result.stdout)["Secret"] == "123456789012-eu-west-2-2"


# The time bound runs from exec: these run the console script as a fresh process, so the imports
# of botocore are inside the measured time, as they are for a real client.
def test_throttling_that_never_ends_answers_within_the_bound(
    run_process: Runner, env: dict[str, str], standin: StandIn
) -> None:
    standin.default_fault = "throttle"
    started = time.monotonic()
    result = run_process(["get"], HOST.encode())
    elapsed = time.monotonic() - started
    assert result.stdout == b"credentials not found in native keychain\n"
    assert b"ThrottlingException" in result.stderr
    assert standin.count() >= 2
    assert elapsed < 3.0 + 1.5


@pytest.mark.parametrize(
    ("endpoint", "bound"),
    [
        pytest.param("refused", 3.0, id="refused"),
        pytest.param("hang", 3.0, id="hang"),
        pytest.param("unresolvable", 3.0, id="unresolvable"),
    ],
)
def test_unreachable_endpoint_answers_within_the_bound(
    run_process: Runner, env: dict[str, str], standin: StandIn, endpoint: str, bound: float
) -> None:
    if endpoint == "refused":
        env["AWS_ENDPOINT_URL_ECR"] = closed_url()
    elif endpoint == "hang":
        standin.default_fault = "hang"
    else:
        env["AWS_ENDPOINT_URL_ECR"] = "http://ecr.does-not-resolve.invalid"
    started = time.monotonic()
    result = run_process(["get"], HOST.encode(), env_=env)
    elapsed = time.monotonic() - started
    assert result.stdout == b"credentials not found in native keychain\n"
    assert result.returncode == 1
    assert result.stderr.startswith(b"docker-credential-ecr-login: ")
    assert elapsed < bound + 1.5, elapsed


def test_timeout_is_configurable(
    run_process: Runner, env: dict[str, str], standin: StandIn
) -> None:
    standin.default_fault = "hang"
    env["AWS_ECR_TIMEOUT"] = "1"
    started = time.monotonic()
    result = run_process(["get"], HOST.encode(), env_=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert b"within 1 s" in result.stderr
    assert elapsed < 1.0 + 1.5


def test_credential_resolution_counts_toward_the_bound(
    run_process: Runner, irsa_env: dict[str, str], standin: StandIn
) -> None:
    # STS hangs (the stand-in answers nothing): IRSA resolution itself must be bounded.
    standin.default_fault = "hang"
    irsa_env["AWS_ENDPOINT_URL_STS"] = standin.url
    started = time.monotonic()
    result = run_process(["get"], HOST.encode(), env_=irsa_env)
    assert result.returncode == 1
    assert time.monotonic() - started < 3.0 + 1.5


def test_no_credentials_is_not_found(run: Runner, env: dict[str, str], standin: StandIn) -> None:
    env = without_static_keys(env)
    started = time.monotonic()
    result = run(["get"], HOST.encode(), env_=env)
    assert result.stdout == b"credentials not found in native keychain\n"
    assert b"NoCredentials" in result.stderr
    assert standin.count() == 0
    assert time.monotonic() - started < 4.5


@pytest.mark.parametrize("fault", ["bad-token", "no-colon-token", "malformed", "empty"])
def test_malformed_answers_are_not_found_and_not_cached(
    run: Runner, home: Path, standin: StandIn, fault: str
) -> None:
    standin.faults = [fault]
    result = run(["get"], HOST.encode())
    assert result.stdout == b"credentials not found in native keychain\n"
    cache = home / ".ecr" / "cache.json"
    assert not cache.exists() or json.loads(cache.read_text())["Registries"] == {}


def test_secrets_never_reach_stderr_or_the_log(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    env["AWS_ECR_LOG_LEVEL"] = "debug"
    standin.password_template = "s3cr3t-password-{serial}"
    assert run(["get"], HOST.encode(), env_=env).returncode == 0
    assert run(["get"], HOST.encode(), env_=env).returncode == 0
    standin.default_fault = "denied"
    run(["get"], b"123456789012.dkr.ecr.us-east-1.amazonaws.com", env_=env)
    log = (home / ".ecr" / "log" / "ecr-login.log").read_text()
    assert "get: fetching a token" in log
    for secret in (
        "s3cr3t-password",
        "wJalrXUtnFEMI",
        base64.b64encode(b"AWS:s3cr3t").decode()[:12],
    ):
        assert secret not in log


# ------------------------------------------------------------------------------ below HTTP


def test_front_drops_syns_while_its_accept_queue_is_full() -> None:
    # The harness of the next tests, checked on this kernel: a SYN to a full accept queue is
    # dropped (the connect times out, no RST), and once the front accepts, connects go through.
    with Front(("127.0.0.1", 9), drop_for=1.5) as front:
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", front.port))
            dropped = False
        except TimeoutError:
            dropped = True
        except OSError as err:  # tcp_abort_on_overflow=1 answers with a reset
            require("SYN drops at a full accept queue", False, repr(err))
        finally:
            probe.close()
        assert dropped, "a SYN to the full accept queue was not dropped"
        time.sleep(max(1.6 - (time.monotonic() - front.started), 0))
        with socket.create_connection(("127.0.0.1", front.port), timeout=3):
            pass


def test_syns_dropped_for_the_first_1_5_s_still_yield_a_token(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    # One lost SYN (or a full accept queue) costs one connect timeout, not the get: the connect
    # is retried, with a longer timeout, while AWS_ECR_TIMEOUT allows.
    env["AWS_ECR_TIMEOUT"] = "10"
    with Front(standin.address, drop_for=1.5) as front:
        env["AWS_ENDPOINT_URL_ECR"] = front.url
        result = run(["get"], HOST.encode())
        elapsed = time.monotonic() - front.started
    assert result.returncode == 0, result
    assert creds(result.stdout)["Secret"] == "123456789012-eu-west-2-1"
    assert standin.count() == 1
    assert elapsed < 10.0, elapsed


@pytest.mark.parametrize(
    ("scheme", "attempts"),
    [
        # The request is sent and no answer comes: the first attempt waits half of what is
        # left, then the request is sent again (to what may be another server) with the rest.
        pytest.param("http", 2, id="no-answer"),
        # The TLS handshake never completes: bounded by the connect timeout, then retried.
        pytest.param("https", 2, id="no-tls-handshake"),
    ],
)
def test_silent_endpoint_answers_not_found_within_the_bound(
    run: Runner, env: dict[str, str], standin: StandIn, scheme: str, attempts: int
) -> None:
    # In process: the whole bound is left for the attempts (from exec: the tests above).
    with Front(scheme=scheme) as front:
        env["AWS_ENDPOINT_URL_ECR"] = front.url
        started = time.monotonic()
        result = run(["get"], HOST.encode(), env_=env)
        elapsed = time.monotonic() - started
        connections = front.connections
    assert result.stdout == b"credentials not found in native keychain\n"
    assert result.returncode == 1
    assert b"Timeout" in result.stderr
    assert elapsed < 3.0 + 4.0, elapsed  # the 3 s bound, with slack for a loaded machine
    assert connections >= attempts


def test_refused_port_answers_long_before_the_bound(
    run_process: Runner, env: dict[str, str], standin: StandIn
) -> None:
    # Refused is an answer: one quick retry, never a wait for the deadline (20 s here, so
    # even a slow start on a loaded machine stays far below it).
    env["AWS_ECR_TIMEOUT"] = "20"
    env["AWS_ENDPOINT_URL_ECR"] = closed_url()
    started = time.monotonic()
    result = run_process(["get"], HOST.encode(), env_=env)
    elapsed = time.monotonic() - started
    assert result.stdout == b"credentials not found in native keychain\n"
    assert b"EndpointConnectionError" in result.stderr
    assert elapsed < 8.0, elapsed


def test_connect_timeouts_grow_and_the_last_attempt_gets_all_that_is_left() -> None:
    from docker_credential_ecr_py._aws import _connect_timeout

    # AWS_ECR_TIMEOUT=10, connects never answered: 1 s, 2 s, 4 s, then the rest.
    assert [_connect_timeout(n, left) for n, left in [(1, 9.6), (2, 8.5), (3, 6.4)]] == [1, 2, 4]
    assert _connect_timeout(4, 2.3) == 2.3
    # The default 3 s: 1 s, then the 1.5 s left (no room for a third attempt after a second).
    assert (_connect_timeout(1, 2.6), _connect_timeout(2, 1.5)) == (1, 1.5)
    # No room for a second attempt at all: the first gets everything.
    assert _connect_timeout(1, 1.2) == 1.2
