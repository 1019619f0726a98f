"""The caller's identity as the cache key sees it: predicted from env and files, no network."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docker_credential_ecr_py import _identity
from docker_credential_ecr_py import _lean as _hashing
from docker_credential_ecr_py._identity import FINGERPRINT_PREFIX, STATIC, resolve
from support import ROOT, base_env, jwt

GO_ACCESS_KEY_CHECKSUM = "xOV45/s/9aT8cbO8tDicjEV1KKkfpLdKrQs0ipPGgGc="  # checksum("accessKey")
GO_ACCESS_KEY_LEGACY = "YWNjZXNzS2V51B2M2Y8AsgTpgAmY7PhCfg=="


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """Nothing configured (no stand-in needed: resolve never talks to anything)."""
    values = base_env(home)
    (home / ".aws").mkdir()
    return values


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def config(env: dict[str, str], text: str) -> None:
    write(Path(env["AWS_CONFIG_FILE"]), text)


def credentials(env: dict[str, str], text: str) -> None:
    write(Path(env["AWS_SHARED_CREDENTIALS_FILE"]), text)


def home_of(env: dict[str, str]) -> str:
    return env["HOME"]


def key(env: dict[str, str], profile: str | None = None) -> str:
    return resolve(env, home_of(env), profile).key_part


def assert_fingerprint(ident: _identity.Identity, kind: str) -> None:
    assert ident.kind == kind
    assert ident.key_part.startswith(FINGERPRINT_PREFIX)
    digest = ident.key_part[len(FINGERPRINT_PREFIX) :]
    assert len(base64.b64decode(digest + "=")) == 32  # a SHA-256, base64 without padding
    assert ident.legacy_key_part == ""
    assert ident.access_key_id == ""


# ---------------------------------------------------------------------------------------------
# static keys: the Go helper's key


def test_env_static_keys(env: dict[str, str]) -> None:
    env.update(AWS_ACCESS_KEY_ID="accessKey", AWS_SECRET_ACCESS_KEY="secretKey")
    ident = resolve(env, home_of(env))
    assert ident.kind == STATIC
    assert ident.key_part == GO_ACCESS_KEY_CHECKSUM
    assert ident.legacy_key_part == GO_ACCESS_KEY_LEGACY
    assert ident.access_key_id == "accessKey"
    assert ident.profile is None
    # the session token and the secret do not enter the key (as in the Go helper)
    env.update(AWS_SECRET_ACCESS_KEY="other", AWS_SESSION_TOKEN="tok")
    assert key(env) == GO_ACCESS_KEY_CHECKSUM


def test_env_access_key_without_secret_is_not_static(env: dict[str, str]) -> None:
    env["AWS_ACCESS_KEY_ID"] = "accessKey"
    assert resolve(env, home_of(env)).kind != STATIC


def test_env_keys_beat_aws_profile(env: dict[str, str]) -> None:
    # botocore drops the environment provider only for an explicitly passed profile
    credentials(env, "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n")
    env.update(AWS_ACCESS_KEY_ID="accessKey", AWS_SECRET_ACCESS_KEY="s", AWS_PROFILE="dev")
    ident = resolve(env, home_of(env))
    assert ident.kind == STATIC
    assert ident.key_part == GO_ACCESS_KEY_CHECKSUM


def test_explicit_profile_ignores_env_keys(env: dict[str, str]) -> None:
    credentials(env, "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n")
    config(
        env, "[profile role]\nrole_arn = arn:aws:iam::111122223333:role/R\nsource_profile = dev\n"
    )
    env.update(AWS_ACCESS_KEY_ID="accessKey", AWS_SECRET_ACCESS_KEY="s")
    dev = resolve(env, home_of(env), "dev")
    assert dev.kind == STATIC
    assert dev.key_part == _hashing.checksum("AKIADEV")
    assert dev.legacy_key_part == _hashing.legacy_checksum("AKIADEV")
    assert dev.profile == "dev"
    role = resolve(env, home_of(env), "role")
    assert_fingerprint(role, "assume-role")
    assert role.profile == "role"


def test_credentials_file_static_profile(env: dict[str, str]) -> None:
    credentials(
        env,
        "[default]\naws_access_key_id = accessKey\naws_secret_access_key = s\n\n"
        "[dev]\naws_access_key_id=AKIADEV  \naws_secret_access_key=s2\n",
    )
    ident = resolve(env, home_of(env))
    assert (ident.kind, ident.key_part) == (STATIC, GO_ACCESS_KEY_CHECKSUM)
    assert ident.legacy_key_part == GO_ACCESS_KEY_LEGACY
    env["AWS_PROFILE"] = "dev"
    ident = resolve(env, home_of(env))
    assert (ident.kind, ident.key_part) == (STATIC, _hashing.checksum("AKIADEV"))
    assert ident.profile is None  # chosen by AWS_PROFILE, not explicitly


def test_indented_keys_in_a_section_are_read_as_botocore_does(env: dict[str, str]) -> None:
    # configparser (botocore) reads an indented first line of a section as a key, and the
    # following lines at the same indentation as keys too: this file gives static credentials
    # ("shared-credentials-file" for AKIAINDENT), so the Go-compatible key must be used.
    credentials(
        env, "[default]\n    aws_access_key_id = AKIAINDENT\n    aws_secret_access_key = s\n"
    )
    ident = resolve(env, home_of(env))
    assert (ident.kind, ident.key_part) == (STATIC, _hashing.checksum("AKIAINDENT"))


def test_config_file_static_profile(env: dict[str, str]) -> None:
    config(
        env,
        "[profile cfg]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = s\n"
        "region = ap-south-1\n",
    )
    ident = resolve(env, home_of(env), "cfg")
    assert (ident.kind, ident.key_part) == (STATIC, _hashing.checksum("AKIACONFIG"))
    assert ident.region == "ap-south-1"


def test_credentials_file_beats_config_file(env: dict[str, str]) -> None:
    config(env, "[profile p]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = s\n")
    credentials(env, "[p]\naws_access_key_id = AKIACREDS\naws_secret_access_key = s\n")
    assert key(env, "p") == _hashing.checksum("AKIACREDS")


def test_home_relative_file_paths(env: dict[str, str]) -> None:
    credentials(env, "[default]\naws_access_key_id = accessKey\naws_secret_access_key = s\n")
    env["AWS_SHARED_CREDENTIALS_FILE"] = "~/.aws/credentials"
    assert key(env) == GO_ACCESS_KEY_CHECKSUM
    del env["AWS_SHARED_CREDENTIALS_FILE"]
    del env["AWS_CONFIG_FILE"]
    assert key(env) == GO_ACCESS_KEY_CHECKSUM  # ~/.aws/credentials by default


# ---------------------------------------------------------------------------------------------
# assume role


ROLE_CONFIG = """\
[profile base]
region = eu-west-1

[profile role]
role_arn = arn:aws:iam::111122223333:role/Deploy
source_profile = base
region = eu-west-2

[profile other]
region = us-east-1
"""
BASE_CREDS = "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = s\n"


def test_assume_role_fingerprint(env: dict[str, str]) -> None:
    config(env, ROLE_CONFIG)
    credentials(env, BASE_CREDS)
    first = resolve(env, home_of(env), "role")
    assert_fingerprint(first, "assume-role")
    assert first.region == "eu-west-2"
    assert resolve(env, home_of(env), "role").key_part == first.key_part  # stable
    env["AWS_PROFILE"] = "role"
    via_env = resolve(env, home_of(env))
    assert_fingerprint(via_env, "assume-role")
    assert via_env.profile is None
    assert via_env.key_part != first.key_part  # explicit vs. chosen by AWS_PROFILE is recorded
    assert key(env) == via_env.key_part


def test_assume_role_key_follows_role_arn(env: dict[str, str]) -> None:
    config(env, ROLE_CONFIG)
    credentials(env, BASE_CREDS)
    before = key(env, "role")
    config(env, ROLE_CONFIG.replace("role/Deploy", "role/Admin"))
    changed = key(env, "role")
    assert changed != before
    config(env, ROLE_CONFIG)
    assert key(env, "role") == before


def test_assume_role_key_follows_source_profile(env: dict[str, str]) -> None:
    config(env, ROLE_CONFIG)
    credentials(env, BASE_CREDS)
    before = key(env, "role")
    credentials(env, BASE_CREDS.replace("AKIABASE", "AKIAROTATED"))
    assert key(env, "role") != before
    credentials(env, BASE_CREDS)
    config(env, ROLE_CONFIG.replace("region = eu-west-1", "region = eu-north-1"))
    assert key(env, "role") != before  # the source profile's config section changed


def test_assume_role_key_ignores_unrelated_profiles(env: dict[str, str]) -> None:
    config(env, ROLE_CONFIG)
    credentials(env, BASE_CREDS)
    before = key(env, "role")
    config(env, ROLE_CONFIG.replace("region = us-east-1", "region = sa-east-1") + "\n[profile x]\n")
    credentials(env, BASE_CREDS + "\n[unrelated]\naws_access_key_id = AKIAU\n")
    assert key(env, "role") == before
    # comments and blank lines do not matter either
    config(env, "# a comment\n\n" + ROLE_CONFIG.replace("\n\n", "\n\n; note\n\n"))
    assert key(env, "role") == before


def test_assume_role_with_credential_source(env: dict[str, str]) -> None:
    config(
        env,
        "[profile ec2role]\nrole_arn = arn:aws:iam::111122223333:role/R\n"
        "credential_source = Ec2InstanceMetadata\n",
    )
    assert_fingerprint(resolve(env, home_of(env), "ec2role"), "assume-role")


def test_assume_role_beats_static_keys_in_profile(env: dict[str, str]) -> None:
    config(env, ROLE_CONFIG)
    credentials(
        env, BASE_CREDS + "[role]\naws_access_key_id = AKIAROLE\naws_secret_access_key = s\n"
    )
    assert_fingerprint(resolve(env, home_of(env), "role"), "assume-role")


def test_source_profile_cycle_terminates(env: dict[str, str]) -> None:
    config(
        env,
        "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n",
    )
    assert_fingerprint(resolve(env, home_of(env), "a"), "assume-role")


# ---------------------------------------------------------------------------------------------
# web identity (IRSA)


ROLE_ARN = "arn:aws:iam::111122223333:role/irsa"
CLAIMS = {
    "iss": "https://oidc.eks.eu-west-2.amazonaws.com/id/ABC",
    "sub": "system:serviceaccount:ci:builder",
    "aud": ["sts.amazonaws.com"],
}


def web_identity_env(env: dict[str, str], tmp_path: Path, claims: dict[str, Any]) -> Path:
    token_file = tmp_path / "token"
    token_file.write_text(jwt({**claims, "iat": 1, "exp": 2}) + "\n")
    env.update(AWS_ROLE_ARN=ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file))
    return token_file


def test_web_identity_key_survives_token_rotation(env: dict[str, str], tmp_path: Path) -> None:
    token_file = web_identity_env(env, tmp_path, CLAIMS)
    first = resolve(env, home_of(env))
    assert_fingerprint(first, "web-identity")
    token_file.write_text(jwt({**CLAIMS, "iat": 1000, "exp": 5000}, b"another signature"))
    assert key(env) == first.key_part


def test_web_identity_key_follows_sub_iss_and_role(env: dict[str, str], tmp_path: Path) -> None:
    token_file = web_identity_env(env, tmp_path, CLAIMS)
    base = key(env)
    token_file.write_text(jwt({**CLAIMS, "sub": "system:serviceaccount:ci:other"}))
    assert key(env) != base
    token_file.write_text(jwt({**CLAIMS, "iss": "https://oidc.eks.us-east-1.amazonaws.com/id/X"}))
    assert key(env) != base
    token_file.write_text(jwt(CLAIMS))
    assert key(env) == base
    env["AWS_ROLE_ARN"] = ROLE_ARN + "-2"
    assert key(env) != base


def test_web_identity_unreadable_token_still_resolves(env: dict[str, str], tmp_path: Path) -> None:
    env.update(AWS_ROLE_ARN=ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "missing"))
    assert_fingerprint(resolve(env, home_of(env)), "web-identity")
    (tmp_path / "missing").write_text("not.a-jwt")
    assert_fingerprint(resolve(env, home_of(env)), "web-identity")


def test_web_identity_from_profile(env: dict[str, str], tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(jwt(CLAIMS))
    config(env, f"[profile irsa]\nrole_arn = {ROLE_ARN}\nweb_identity_token_file = {token_file}\n")
    ident = resolve(env, home_of(env), "irsa")
    assert_fingerprint(ident, "web-identity")
    token_file.write_text(jwt({**CLAIMS, "iat": 99}, b"rotated"))
    assert key(env, "irsa") == ident.key_part
    token_file.write_text(jwt({**CLAIMS, "sub": "someone-else"}))
    assert key(env, "irsa") != ident.key_part


# ---------------------------------------------------------------------------------------------
# SSO, credential_process, container, instance


SSO_CONFIG = """\
[profile dev-sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
"""


def test_sso_profile(env: dict[str, str]) -> None:
    config(env, SSO_CONFIG)
    ident = resolve(env, home_of(env), "dev-sso")
    assert_fingerprint(ident, "sso")
    assert ident.region == "eu-west-2"
    assert key(env, "dev-sso") == ident.key_part
    config(env, SSO_CONFIG.replace("Developer", "Admin"))
    assert key(env, "dev-sso") != ident.key_part
    config(env, SSO_CONFIG.replace("corp.awsapps", "other.awsapps"))
    assert key(env, "dev-sso") != ident.key_part  # the sso-session section is in the key
    config(env, SSO_CONFIG + "\n[sso-session unrelated]\nsso_start_url = https://x\n")
    assert key(env, "dev-sso") == ident.key_part


def test_legacy_sso_profile(env: dict[str, str]) -> None:
    config(
        env,
        "[profile old]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "sso_account_id = 111122223333\nsso_role_name = Dev\n",
    )
    assert_fingerprint(resolve(env, home_of(env), "old"), "sso")


def test_credential_process(env: dict[str, str]) -> None:
    config(env, "[profile proc]\ncredential_process = /usr/bin/get-creds --role a\n")
    ident = resolve(env, home_of(env), "proc")
    assert_fingerprint(ident, "process")
    config(env, "[profile proc]\ncredential_process = /usr/bin/get-creds --role b\n")
    assert key(env, "proc") != ident.key_part


def test_container_credentials(env: dict[str, str]) -> None:
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://169.254.170.23/v1/credentials"
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = "/var/run/secrets/pods.eks.amazonaws.com/t"
    ident = resolve(env, home_of(env))
    assert_fingerprint(ident, "container")
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:8080/creds"
    assert key(env) != ident.key_part
    del env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    del env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc"
    assert_fingerprint(resolve(env, home_of(env)), "container")


class FakeUname:
    def __init__(self, nodename: str) -> None:
        self.nodename = nodename


def test_instance_credentials_key_on_host(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    del env["AWS_EC2_METADATA_DISABLED"]
    monkeypatch.setattr(os, "uname", lambda: FakeUname("builder-1"))
    ident = resolve(env, home_of(env))
    assert_fingerprint(ident, "instance")
    assert key(env) == ident.key_part
    monkeypatch.setattr(os, "uname", lambda: FakeUname("builder-2"))
    assert key(env) != ident.key_part
    monkeypatch.setattr(os, "uname", lambda: FakeUname("builder-1"))
    assert key(env) == ident.key_part
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    assert key(env) != ident.key_part  # metadata settings are part of the key


def test_kinds_give_distinct_keys(env: dict[str, str], tmp_path: Path) -> None:
    config(env, ROLE_CONFIG + SSO_CONFIG + "[profile proc]\ncredential_process = x\n")
    credentials(env, BASE_CREDS)
    keys = {
        key(env, "role"),
        key(env, "dev-sso"),
        key(env, "proc"),
        key(env, "base"),
        key(env, "nothing-here"),
        key(env),
    }
    web_identity_env(env, tmp_path, CLAIMS)
    keys.add(key(env))
    assert len(keys) == 7


# ---------------------------------------------------------------------------------------------
# region


def test_region_resolution(env: dict[str, str]) -> None:
    config(env, "[default]\nregion = eu-central-1\n[profile p]\nregion = ap-east-1\n")
    credentials(env, "[p]\naws_access_key_id = AKIAP\naws_secret_access_key = s\n")
    assert resolve(env, home_of(env)).region == "eu-central-1"
    assert resolve(env, home_of(env), "p").region == "ap-east-1"
    env["AWS_PROFILE"] = "p"
    assert resolve(env, home_of(env)).region == "ap-east-1"
    # static keys from the environment still take the selected profile's region
    env.update(AWS_ACCESS_KEY_ID="accessKey", AWS_SECRET_ACCESS_KEY="s")
    assert resolve(env, home_of(env)).region == "ap-east-1"
    env["AWS_DEFAULT_REGION"] = "us-west-1"
    assert resolve(env, home_of(env)).region == "us-west-1"
    assert resolve(env, home_of(env), "p").region == "us-west-1"
    env["AWS_REGION"] = "us-west-2"  # AWS_REGION beats AWS_DEFAULT_REGION
    assert resolve(env, home_of(env)).region == "us-west-2"
    assert resolve(env, home_of(env), "p").region == "us-west-2"


def test_no_region_anywhere(env: dict[str, str]) -> None:
    assert resolve(env, home_of(env)).region == ""


# ---------------------------------------------------------------------------------------------
# no network, no botocore


NO_NETWORK = r"""
import json, sys

events = []
def hook(event, args):
    if event.startswith(("socket.", "urllib.", "http.")):
        events.append(event)
sys.addaudithook(hook)

from docker_credential_ecr_py import _identity

env = json.loads(sys.argv[1])
results = {}
for case, (extra, profile) in json.loads(sys.argv[2]).items():
    ident = _identity.resolve({**env, **extra}, env["HOME"], profile)
    results[case] = [ident.kind, ident.key_part]
heavy = sorted(m for m in ("botocore", "boto3", "urllib3", "socket", "ssl", "http.client",
                           "configparser", "hashlib") if m in sys.modules)
print(json.dumps({"results": results, "events": events, "heavy": heavy}))
"""


def test_resolve_needs_no_network_and_no_botocore(env: dict[str, str], tmp_path: Path) -> None:
    config(env, ROLE_CONFIG + SSO_CONFIG + "[profile proc]\ncredential_process = x\n")
    credentials(env, BASE_CREDS)
    token_file = tmp_path / "token"
    token_file.write_text(jwt(CLAIMS))
    del env["AWS_EC2_METADATA_DISABLED"]  # instance credentials: still no IMDS call
    cases = {
        "static": [{"AWS_ACCESS_KEY_ID": "accessKey", "AWS_SECRET_ACCESS_KEY": "s"}, None],
        "assume-role": [{}, "role"],
        "sso": [{}, "dev-sso"],
        "process": [{}, "proc"],
        "web-identity": [
            {"AWS_ROLE_ARN": ROLE_ARN, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file)},
            None,
        ],
        "container": [{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/c"}, None],
        "instance": [{}, None],
    }
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": env["HOME"]}
    proc = subprocess.run(
        [sys.executable, "-I", "-c", NO_NETWORK, json.dumps(env), json.dumps(cases)],
        capture_output=True,
        env=child_env,
        cwd=str(ROOT),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)
    assert out["events"] == []
    assert out["heavy"] == []
    for case, (kind, key_part) in out["results"].items():
        assert kind == ("static" if case == "static" else case), case
        if case == "static":
            assert key_part == GO_ACCESS_KEY_CHECKSUM
        else:
            assert key_part.startswith(FINGERPRINT_PREFIX), case
    # and the same answers in-process
    assert out["results"]["assume-role"][1] == key(env, "role")


# ---- botocore's own reading of profiles (review findings) ------------------------------------


def test_default_profile_variable_wins_as_in_botocore(tmp_path: Path) -> None:
    import botocore.session

    env = {
        "AWS_PROFILE": "a",
        "AWS_DEFAULT_PROFILE": "b",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        assert botocore.session.Session().get_config_variable("profile") == "b"
    both = _identity.resolve(env, str(tmp_path))
    only_b = _identity.resolve({**env, "AWS_PROFILE": "b"}, str(tmp_path))
    only_a = _identity.resolve(
        {k: v for k, v in env.items() if k != "AWS_DEFAULT_PROFILE"}, str(tmp_path)
    )
    assert both.key_part == only_b.key_part != only_a.key_part


@pytest.mark.parametrize(
    "header", ["[profile  r]", '[profile "r"]', "[profile r] ; a note", "[profile r]"]
)
def test_section_headers_read_as_botocore_reads_them(tmp_path: Path, header: str) -> None:
    config = tmp_path / "config"
    keys = []
    for role in ("x", "y"):
        config.write_text(
            f"{header}\nrole_arn = arn:aws:iam::111122223333:role/{role}\nsource_profile = b\n"
            "[profile b]\naws_access_key_id = AKIDB\naws_secret_access_key = s\n"
        )
        env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        found = _identity.resolve({**env, "AWS_PROFILE": "r"}, str(tmp_path))
        assert found.kind == "assume-role"
        keys.append(found.key_part)
    assert keys[0] != keys[1]  # a changed role_arn changes the key


def test_container_token_and_legacy_files_enter_the_fingerprint(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "token-one",
    }
    one = _identity.resolve(env, str(tmp_path)).key_part
    two = _identity.resolve(
        {**env, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "token-two"}, str(tmp_path)
    )
    assert one != two.key_part
    assert "token-one" not in one
    boto = tmp_path / "boto.cfg"
    bare = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    boto.write_text("[Credentials]\naws_access_key_id = A\n")
    first = _identity.resolve({**bare, "BOTO_CONFIG": str(boto)}, str(tmp_path)).key_part
    boto.write_text("[Credentials]\naws_access_key_id = B\n")
    second = _identity.resolve({**bare, "BOTO_CONFIG": str(boto)}, str(tmp_path)).key_part
    assert first != second
