"""The AWS stand-in (tests/support/standin.py) speaks ECR and ECR Public well enough for boto3."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from support.standin import ECR_TARGET_PREFIX, FAULTS, StandIn, parse_credential_scope, parse_fault

STANDIN_PY = Path(__file__).resolve().parents[1] / "support" / "standin.py"
AKID = "AKIDEXAMPLE"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for k in list(os.environ):
        if k.startswith("AWS_") or k.lower() in {"http_proxy", "https_proxy", "no_proxy"}:
            monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


def make_client(
    s: StandIn | None,
    service: str = "ecr",
    region: str = "eu-west-2",
    akid: str = AKID,
    **config: Any,
) -> Any:
    cfg: dict[str, Any] = {
        "retries": {"total_max_attempts": 1},
        "connect_timeout": 2,
        "read_timeout": 2,
    }
    cfg.update(config)
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=s.url if s is not None else None,
        aws_access_key_id=akid,
        aws_secret_access_key="x",
        config=Config(**cfg),
    )


def decode(token: str) -> str:
    return base64.b64decode(token).decode()


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers or {}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


# --- happy path ------------------------------------------------------------------------------


def test_ecr_token_decodes_and_call_is_recorded(standin: StandIn) -> None:
    before = time.time()
    r = make_client(standin).get_authorization_token()
    (ad,) = r["authorizationData"]
    assert decode(ad["authorizationToken"]) == "AWS:123456789012-eu-west-2-1"
    assert ad["proxyEndpoint"] == "https://123456789012.dkr.ecr.eu-west-2.amazonaws.com"
    assert isinstance(ad["expiresAt"], dt.datetime)
    assert abs(ad["expiresAt"].timestamp() - (before + 12 * 3600)) < 5

    (call,) = standin.calls
    assert call.service == "ecr"
    assert call.target == f"{ECR_TARGET_PREFIX}.GetAuthorizationToken"
    assert call.region == "eu-west-2"
    assert call.access_key_id == AKID
    assert call.registry_ids == []
    assert call.fault == "ok"
    assert call.status == 200
    assert call.serial == 1
    assert standin.count() == standin.count(service="ecr", status=200) == 1


def test_registry_ids_give_one_entry_each(standin: StandIn) -> None:
    ids = ["111111111111", "222222222222"]
    r = make_client(standin, region="us-west-2").get_authorization_token(registryIds=ids)
    data = r["authorizationData"]
    assert [decode(d["authorizationToken"]) for d in data] == [
        "AWS:111111111111-us-west-2-1",
        "AWS:222222222222-us-west-2-1",
    ]
    assert [d["proxyEndpoint"] for d in data] == [
        "https://111111111111.dkr.ecr.us-west-2.amazonaws.com",
        "https://222222222222.dkr.ecr.us-west-2.amazonaws.com",
    ]
    assert standin.calls[0].registry_ids == ids


def test_default_account_and_account_for_key(standin: StandIn) -> None:
    standin.default_account = "999999999999"
    standin.account_for_key = {"AKIDOTHER": "555555555555"}
    r1 = make_client(standin).get_authorization_token()
    r2 = make_client(standin, akid="AKIDOTHER").get_authorization_token()
    assert decode(r1["authorizationData"][0]["authorizationToken"]).startswith("AWS:999999999999-")
    ad2 = r2["authorizationData"][0]
    assert decode(ad2["authorizationToken"]) == "AWS:555555555555-eu-west-2-2"
    assert ad2["proxyEndpoint"].startswith("https://555555555555.")
    assert [c.access_key_id for c in standin.calls] == [AKID, "AKIDOTHER"]


def test_templates_serial_and_lifetime(standin: StandIn) -> None:
    standin.password_template = "pw-{service}-{account}-{region}-{serial}"
    standin.proxy_endpoint_template = "https://{account}.dkr.ecr.{region}.amazonaws.com.cn"
    standin.lifetime = 60
    c = make_client(standin, region="cn-north-1")
    c.get_authorization_token()
    now = time.time()
    ad = c.get_authorization_token()["authorizationData"][0]
    assert decode(ad["authorizationToken"]) == "AWS:pw-ecr-123456789012-cn-north-1-2"
    assert ad["proxyEndpoint"] == "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert abs(ad["expiresAt"].timestamp() - (now + 60)) < 5


def test_ecr_public_parses(standin: StandIn) -> None:
    before = time.time()
    r = make_client(standin, "ecr-public", "us-east-1").get_authorization_token()
    ad = r["authorizationData"]
    assert isinstance(ad, dict)  # a single structure, not a list
    assert set(ad) == {"authorizationToken", "expiresAt"}
    assert decode(ad["authorizationToken"]) == "AWS:123456789012-us-east-1-1"
    assert isinstance(ad["expiresAt"], dt.datetime)
    assert abs(ad["expiresAt"].timestamp() - (before + 12 * 3600)) < 5
    (call,) = standin.calls
    assert call.service == "ecr-public"
    assert call.target == "SpencerFrontendService.GetAuthorizationToken"
    assert call.region == "us-east-1"
    assert standin.count(service="ecr-public") == 1
    assert standin.count(service="ecr") == 0


def test_unknown_target_and_control_errors(standin: StandIn) -> None:
    status, body = post(
        standin.url + "/", {}, {"X-Amz-Target": f"{ECR_TARGET_PREFIX}.DescribeRepositories"}
    )
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert "DescribeRepositories" in body["message"]
    assert standin.calls[0].status == 400
    assert standin.calls[0].fault == "n/a"
    status, _ = post(standin.url + "/_standin/config", {"faults": ["bogus"]})
    assert status == 400
    status, _ = post(standin.url + "/_standin/config", {"nope": 1})
    assert status == 400


def test_credential_scope_and_fault_parsing() -> None:
    hdr = (
        "AWS4-HMAC-SHA256 Credential=AKID/20261126/eu-west-2/ecr/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert parse_credential_scope(hdr) == ("AKID", "eu-west-2")
    assert parse_credential_scope(None) == (None, None)
    assert parse_fault("latency:1.5") == ("latency", 1.5)
    assert parse_fault("expire-early:-3") == ("expire-early", -3.0)
    assert all(parse_fault(f) == (f, None) for f in FAULTS)
    for bad in ("bogus", "latency", "ok:1"):
        with pytest.raises(ValueError):
            parse_fault(bad)


# --- faults ----------------------------------------------------------------------------------

ERROR_FAULTS = [
    ("throttle", 400, "ThrottlingException", "Rate exceeded"),
    ("http429", 429, "ThrottlingException", "Rate exceeded"),
    ("5xx", 500, "ServerException", "internal error"),
    ("503", 503, "ServiceUnavailableException", None),
    ("denied", 400, "AccessDeniedException", "is not authorized to perform"),
    (
        "invalid-token-creds",
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    ),
]


@pytest.mark.parametrize(("fault", "status", "code", "message"), ERROR_FAULTS)
@pytest.mark.parametrize("service", ["ecr", "ecr-public"])
def test_error_faults(
    standin: StandIn, service: str, fault: str, status: int, code: str, message: str | None
) -> None:
    standin.faults = [fault]
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        make_client(standin, service, "us-east-1").get_authorization_token()
    err = ei.value.response
    assert err["Error"]["Code"] == code
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status
    if message:
        assert message in err["Error"]["Message"]
    assert standin.count(status=status) == 1
    assert standin.calls[0].fault == fault


def test_faults_fifo_then_default(standin: StandIn) -> None:
    standin.faults = ["throttle", "ok", "5xx"]
    standin.default_fault = "denied"
    c = make_client(standin)
    outcomes = []
    for _ in range(5):
        try:
            c.get_authorization_token()
            outcomes.append("ok")
        except botocore.exceptions.ClientError as e:
            outcomes.append(e.response["Error"]["Code"])
    assert outcomes == [
        "ThrottlingException",
        "ok",
        "ServerException",
        "AccessDeniedException",
        "AccessDeniedException",
    ]
    assert [c.fault for c in standin.calls] == ["throttle", "ok", "5xx", "denied", "denied"]
    assert [c.serial for c in standin.calls] == [1, 2, 3, 4, 5]
    assert standin.faults == []


def test_hang_is_bounded_by_read_timeout(standin: StandIn) -> None:
    standin.faults = ["hang"]
    t0 = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        make_client(standin, read_timeout=0.5).get_authorization_token()
    assert time.monotonic() - t0 < 3
    assert standin.calls[0].status is None


def test_hang_seconds_then_closed(standin: StandIn) -> None:
    standin.hang_seconds = 0.3
    standin.faults = ["hang"]
    t0 = time.monotonic()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        make_client(standin, read_timeout=5).get_authorization_token()
    assert 0.25 < time.monotonic() - t0 < 3


def test_stop_releases_hanging_request() -> None:
    s = StandIn().start()
    s.faults = ["hang"]
    errors: list[BaseException] = []

    def call() -> None:
        try:
            make_client(s, read_timeout=30).get_authorization_token()
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    assert s.wait_for_calls(1)
    t0 = time.monotonic()
    s.stop()
    assert time.monotonic() - t0 < 2
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], botocore.exceptions.ConnectionClosedError)


def test_latency(standin: StandIn) -> None:
    standin.faults = ["latency:0.3"]
    t0 = time.monotonic()
    r = make_client(standin).get_authorization_token()
    assert time.monotonic() - t0 >= 0.3
    assert decode(r["authorizationData"][0]["authorizationToken"]).startswith("AWS:")


def test_malformed_body(standin: StandIn) -> None:
    standin.faults = ["malformed"]
    r = make_client(standin).get_authorization_token()
    # botocore swallows the invalid JSON of a 200: no authorizationData at all
    assert "authorizationData" not in r
    assert standin.calls[0].status == 200


def test_bad_and_no_colon_tokens(standin: StandIn) -> None:
    standin.faults = ["bad-token", "no-colon-token"]
    c = make_client(standin)
    tok = c.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    with pytest.raises(ValueError):
        base64.b64decode(tok, validate=True)
    tok = c.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert decode(tok) == "AWSnocolon"


def test_empty(standin: StandIn) -> None:
    standin.faults = ["empty", "empty"]
    assert make_client(standin).get_authorization_token()["authorizationData"] == []
    pub = make_client(standin, "ecr-public", "us-east-1").get_authorization_token()
    assert pub["authorizationData"] == {}


def test_expire_early(standin: StandIn) -> None:
    standin.faults = ["expire-early:30", "expire-early:-10"]
    c = make_client(standin)
    now = time.time()
    soon = c.get_authorization_token()["authorizationData"][0]["expiresAt"].timestamp()
    past = c.get_authorization_token()["authorizationData"][0]["expiresAt"].timestamp()
    assert abs(soon - (now + 30)) < 5
    assert past < time.time()


def test_reset_connection(standin: StandIn) -> None:
    standin.faults = ["reset"]
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        make_client(standin).get_authorization_token()
    assert standin.calls[0].status is None
    # the server keeps serving afterwards
    make_client(standin).get_authorization_token()
    assert standin.count(status=200) == 1


def test_reset_restores_defaults(standin: StandIn) -> None:
    standin.faults = ["throttle"]
    standin.default_fault = "5xx"
    standin.default_account = "111111111111"
    standin.lifetime = 1
    with pytest.raises(botocore.exceptions.ClientError):
        make_client(standin).get_authorization_token()
    standin.reset()
    assert standin.calls == [] and standin.faults == [] and standin.connects == []
    r = make_client(standin).get_authorization_token()
    assert decode(r["authorizationData"][0]["authorizationToken"]) == (
        "AWS:123456789012-eu-west-2-1"
    )


# --- CONNECT / endpoint selection -------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "region", "fips", "expected"),
    [
        # botocore's current endpoint ruleset (not endpoints.json's legacy "ecr-fips." hostname)
        ("ecr", "us-east-1", True, "api.ecr-fips.us-east-1.amazonaws.com:443"),
        ("ecr", "eu-west-2", False, "api.ecr.eu-west-2.amazonaws.com:443"),
        ("ecr-public", "us-east-1", False, "api.ecr-public.us-east-1.amazonaws.com:443"),
    ],
)
def test_connect_is_recorded_via_https_proxy(
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    region: str,
    fips: bool,
    expected: str,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", standin.url)
    c = make_client(None, service, region, use_fips_endpoint=fips)
    with pytest.raises(botocore.exceptions.ProxyConnectionError):
        c.get_authorization_token()
    assert standin.connects == [expected]
    assert standin.calls == []


# --- process mode -----------------------------------------------------------------------------


def test_process_mode_and_control_api(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(STANDIN_PY),
            "--password-template",
            "proc-{account}-{serial}",
            "--account",
            "444444444444",
            "--lifetime",
            "120",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("STANDIN_URL=http://127.0.0.1:"), line
        url = line.strip().split("=", 1)[1]

        class Remote:  # just enough of StandIn for make_client
            pass

        remote: Any = Remote()
        remote.url = url
        now = time.time()
        ad = make_client(remote).get_authorization_token()["authorizationData"][0]
        assert decode(ad["authorizationToken"]) == "AWS:proc-444444444444-1"
        assert abs(ad["expiresAt"].timestamp() - (now + 120)) < 5

        calls = get(url + "/_standin/calls")
        assert len(calls) == 1
        assert calls[0]["service"] == "ecr"
        assert calls[0]["region"] == "eu-west-2"
        assert calls[0]["access_key_id"] == AKID
        assert calls[0]["status"] == 200

        status, cfg = post(
            url + "/_standin/config",
            {"faults": ["throttle"], "account_for_key": {AKID: "777777777777"}},
        )
        assert status == 200 and cfg["faults"] == ["throttle"]
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            make_client(remote).get_authorization_token()
        assert ei.value.response["Error"]["Code"] == "ThrottlingException"
        ad = make_client(remote).get_authorization_token()["authorizationData"][0]
        assert decode(ad["authorizationToken"]) == "AWS:proc-777777777777-3"

        status, cfg = post(url + "/_standin/reset", {})
        assert status == 200
        assert cfg["default_account"] == "123456789012"
        assert get(url + "/_standin/calls") == []
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        out, err = proc.communicate()
    assert rc == 0, err
    assert out == ""  # exactly one line was printed
