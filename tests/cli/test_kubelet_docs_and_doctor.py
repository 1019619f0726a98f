"""docs/kubernetes.md: every config in it is one the kubelet would accept (a strict model of its
``CredentialProviderConfig`` decoding and validation, written here from the kubelet's rules) and
covers every ECR host form; the by-hand check it gives works; ``doctor --kubelet`` passes on the
documented configs and names the fault in broken ones."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import BIN, HOST, Runner, closed_url
from support.kubelet import (
    ECR_IMAGES,
    NOT_ECR_IMAGES,
    V1,
    decode_response,
    parse_duration,
    urls_match,
)
from support.standin import StandIn

DOC = Path(__file__).resolve().parents[2] / "docs" / "kubernetes.md"
_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
IMAGE = f"{HOST}/app"
TOKEN_ATTRIBUTES = {
    "serviceAccountTokenAudience": "sts.amazonaws.com",
    "cacheType": "ServiceAccount",
    "requireServiceAccount": False,
}

_PROVIDER_FIELDS = {
    "name",
    "matchImages",
    "defaultCacheDuration",
    "apiVersion",
    "args",
    "env",
    "tokenAttributes",
}
_TOKEN_FIELDS = {
    "serviceAccountTokenAudience",
    "cacheType",
    "requireServiceAccount",
    "requiredServiceAccountAnnotationKeys",
    "optionalServiceAccountAnnotationKeys",
}
_PLUGIN_API = {
    "credentialprovider.kubelet.k8s.io/v1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
}


def blocks(lang: str) -> list[str]:
    return [text for found, text in _FENCE.findall(DOC.read_text()) if found == lang]


def kubelet_accepts(doc: Any) -> None:
    """The kubelet's strict decoding and ``validateCredentialProviderConfig``, as an assertion."""
    assert isinstance(doc, dict)
    assert set(doc) <= {"apiVersion", "kind", "providers"}, set(doc)
    assert doc["kind"] == "CredentialProviderConfig"
    assert doc["apiVersion"] in {"kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1"}
    providers = doc["providers"]
    assert providers, "at least 1 item in plugins is required"
    names = [p["name"] for p in providers]
    assert len(names) == len(set(names))
    for provider in providers:
        assert set(provider) <= _PROVIDER_FIELDS, set(provider)
        name = provider["name"]
        assert name and "/" not in name and " " not in name and name not in (".", "..")
        assert provider["matchImages"]
        assert all(isinstance(m, str) and m for m in provider["matchImages"])
        assert parse_duration(provider["defaultCacheDuration"]) >= 0
        assert provider["apiVersion"] in _PLUGIN_API
        for item in provider.get("env") or []:
            assert set(item) == {"name", "value"} and isinstance(item["value"], str)
        attrs = provider.get("tokenAttributes")
        if attrs is not None:
            assert provider["apiVersion"] == V1
            assert set(attrs) <= _TOKEN_FIELDS, set(attrs)
            assert attrs["serviceAccountTokenAudience"]
            assert attrs["cacheType"] in ("ServiceAccount", "Token")
            assert isinstance(attrs["requireServiceAccount"], bool)
            if attrs.get("requiredServiceAccountAnnotationKeys"):
                assert attrs["requireServiceAccount"]


def yaml_docs() -> list[dict[str, Any]]:
    """Every YAML document in the page (a block may hold several)."""
    return [d for text in blocks("yaml") for d in yaml.safe_load_all(text)]


def provider_configs() -> list[dict[str, Any]]:
    """Every CredentialProviderConfig in the page (Talos's nested one too)."""
    found = []
    for doc in yaml_docs():
        if doc.get("kind") == "CredentialProviderConfig":
            found.append(doc)
        nested = (doc.get("machine") or {}).get("kubelet", {}).get("credentialProviderConfig")
        if nested:
            found.append(nested)
    return found


def test_the_page_has_the_configs_it_promises() -> None:
    configs = provider_configs()
    assert len(configs) == 3  # node credentials, Talos, service accounts
    assert any("tokenAttributes" in c["providers"][0] for c in configs)


@pytest.mark.parametrize("index", range(3))
def test_every_documented_config_is_one_the_kubelet_accepts(index: int) -> None:
    kubelet_accepts(provider_configs()[index])


def test_the_full_config_covers_every_ecr_form_and_nothing_else() -> None:
    (full,) = [c for c in provider_configs() if len(c["providers"][0]["matchImages"]) > 5]
    patterns = full["providers"][0]["matchImages"]
    for image, _key, _region, _account in ECR_IMAGES:
        bare = image.split("://", 1)[-1]
        if ":443" in bare or bare.lower().startswith("https"):
            continue  # a port must be listed explicitly; the kubelet never sends a scheme
        assert any(urls_match(p, bare) for p in patterns), image
    for image in NOT_ECR_IMAGES:
        if ".dkr" not in image:  # ECR look-alikes may reach the provider, which answers none
            assert not any(urls_match(p, image) for p in patterns), image


def test_the_k3s_and_kubeadm_snippets_name_the_kubelet_flags() -> None:
    flags = {"image-credential-provider-bin-dir", "image-credential-provider-config"}
    docs = yaml_docs()
    k3s = [d for d in docs if "image-credential-provider-config" in d]
    assert len(k3s) == 1 and set(k3s[0]) == flags
    (join,) = [d for d in docs if d.get("kind") == "JoinConfiguration"]
    assert {a["name"] for a in join["nodeRegistration"]["kubeletExtraArgs"]} == flags
    shell = "\n".join(blocks("sh"))
    assert all(f"--{flag}=" in shell for flag in flags)


def test_the_nodes_are_granted_the_service_account_audience() -> None:
    docs = yaml_docs()
    (sa_config,) = [c for c in provider_configs() if "tokenAttributes" in c["providers"][0]]
    audience = sa_config["providers"][0]["tokenAttributes"]["serviceAccountTokenAudience"]
    (role,) = [d for d in docs if d.get("kind") == "ClusterRole"]
    (binding,) = [d for d in docs if d.get("kind") == "ClusterRoleBinding"]
    (rule,) = role["rules"]
    assert rule == {
        "apiGroups": [""],
        "resources": [audience],
        "verbs": ["request-serviceaccounts-token-audience"],
    }
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}
    ]


def test_the_by_hand_check_from_the_page_answers(run: Runner, env: dict[str, str]) -> None:
    (line,) = [t for t in blocks("sh") if "CredentialProviderRequest" in t]
    request = shlex.split(line.split("|")[0].replace("\\\n", " "))[1]
    result = run(["kubelet-credential-provider"], request.encode(), env_=env)
    assert result.returncode == 0, result.stderr
    assert decode_response(result.stdout, V1).auth[HOST][0] == "AWS"


# -- doctor --kubelet --------------------------------------------------------------------------


@pytest.fixture
def denv(env: dict[str, str], moto_server: str) -> dict[str, str]:
    return dict(env, AWS_ENDPOINT_URL_STS=moto_server)


def statuses(out: bytes) -> list[tuple[str, str]]:
    rows = []
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "warn", "FAIL", "info"):
            rows.append((parts[0], parts[1]))
    return rows


def write(tmp_path: Path, doc: Any, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return path


@pytest.mark.parametrize("index", range(3))
def test_doctor_passes_the_documented_configs(
    run: Runner, denv: dict[str, str], tmp_path: Path, index: int
) -> None:
    path = write(tmp_path, provider_configs()[index])
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    text = result.stdout.decode()
    assert result.returncode == 0, text
    assert ("ok", "provider") in statuses(result.stdout)
    assert "cacheDuration 5h59m" in text and f"credentials for {HOST} (username AWS)" in text
    assert "result: 0 failed" in text


def test_doctor_reads_json_too_and_applies_the_provider_env(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    doc = provider_configs()[0]
    # An env entry that breaks the answer proves it is applied to the provider path.
    doc["providers"][0]["env"] = [{"name": "AWS_ENDPOINT_URL_ECR", "value": closed_url()}]
    path = write(tmp_path, doc, "config.json")
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 1
    assert ("FAIL", "provider") in statuses(result.stdout)
    assert "EndpointConnectionError" in result.stdout.decode()


def _config(**provider: Any) -> dict[str, Any]:
    base = {
        "name": "ecr-credential-provider",
        "matchImages": ["*.dkr.ecr.*.amazonaws.com"],
        "defaultCacheDuration": "12h",
        "apiVersion": V1,
    }
    base.update(provider)
    base = {k: v for k, v in base.items() if v is not None}
    return {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [base],
    }


@pytest.mark.parametrize(
    ("provider", "says"),
    [
        ({"matchImages": ["*.dkr.ecr.*.amazonaws.com.cn"]}, "add '*.dkr.ecr.*.amazonaws.com'"),
        ({"name": "docker-credential-ecr-login"}, 'args: ["kubelet-credential-provider"]'),
        ({"name": "aws-plugin"}, "name the provider ecr-credential-provider"),
        ({"args": ["get-credentials"]}, "takes no args"),
        ({"apiVersion": "credentialprovider.kubelet.k8s.io/v2"}, "not supported by this program"),
        ({"defaultCacheDuration": None}, "defaultCacheDuration None is missing"),
        ({"defaultCacheDuration": "12 hours"}, "not a duration"),
        (
            {"tokenAttributes": {"serviceAccountTokenAudience": "sts.amazonaws.com"}},
            "cacheType None: required since Kubernetes 1.34",
        ),
        (
            {
                "tokenAttributes": {
                    "serviceAccountTokenAudience": "sts.amazonaws.com",
                    "cacheType": "ServiceAccount",
                    "requireServiceAccount": False,
                    "requiredServiceAccountAnnotationKeys": ["eks.amazonaws.com/ecr-role-arn"],
                }
            },
            "needs requireServiceAccount: true",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_doctor_names_what_is_wrong_with_a_config(
    run: Runner, denv: dict[str, str], tmp_path: Path, provider: dict[str, Any], says: str
) -> None:
    path = write(tmp_path, _config(**provider))
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    text = result.stdout.decode()
    assert result.returncode == 1, text
    assert ("FAIL", "kubelet") in statuses(result.stdout), text
    assert says in text


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"providerz": []}, "unknown field 'providerz'"),
        ({"providers": [{"matchImage": ["x"]}]}, "unknown field 'matchImage'"),
        (
            {"providers": [{"tokenAttributes": {"optionalServiceAccountAnnotationKey": []}}]},
            "unknown field tokenAttributes.optionalServiceAccountAnnotationKey",
        ),
        ({"providers": [{"name": "ecr-credential-provider"}]}, "name used twice"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_doctor_finds_what_stops_the_kubelet_in_any_provider(
    run: Runner, denv: dict[str, str], tmp_path: Path, config: dict[str, Any], says: str
) -> None:
    doc = _config()
    for key, value in config.items():
        if key == "providers":
            extra = {
                "name": "other",
                "matchImages": ["quay.io"],
                "defaultCacheDuration": "1h",
                "apiVersion": V1,
            }
            doc["providers"] += [{**extra, **p} for p in value]
        else:
            doc[key] = value
    path = write(tmp_path, doc)
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 1
    assert says in result.stdout.decode()


def test_doctor_fails_token_attributes_outside_v1(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    attrs = dict(TOKEN_ATTRIBUTES)
    path = write(
        tmp_path,
        _config(apiVersion="credentialprovider.kubelet.k8s.io/v1beta1", tokenAttributes=attrs),
    )
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 1
    assert "the kubelet refuses the config otherwise" in result.stdout.decode()


def test_doctor_reads_a_config_directory(run: Runner, denv: dict[str, str], tmp_path: Path) -> None:
    conf = tmp_path / "conf.d"
    conf.mkdir()
    other = _config(name="other", matchImages=["quay.io"])
    write(conf, other, "10-other.yaml")
    write(conf, _config(), "20-ecr.json")
    (conf / "README").write_text("not read")
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(conf)], env_=denv)
    assert result.returncode == 0, result.stdout.decode()
    assert "provider 'ecr-credential-provider' covers" in result.stdout.decode()


def test_doctor_runs_the_file_in_the_bin_dir(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    path = write(tmp_path, _config())
    args = ["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path), "--kubelet-bin-dir"]
    missing = run([*args, str(bin_dir)], env_=denv)
    assert missing.returncode == 1
    assert ("FAIL", "binary") in statuses(missing.stdout)
    assert "does not exist" in missing.stdout.decode()
    # Something else under the provider's name: its answer is what doctor reports.
    fake = bin_dir / "ecr-credential-provider"
    fake.write_text("#!/bin/sh\necho 'not ours' >&2\nexit 3\n")
    fake.chmod(0o755)
    other = run([*args, str(bin_dir)], env_=denv)
    assert other.returncode == 1
    assert "exit 3" in other.stdout.decode() and "not ours" in other.stdout.decode()
    fake.unlink()
    fake.symlink_to(BIN / "docker-credential-ecr-login")
    ours = run([*args, str(bin_dir)], env_=denv)
    assert ours.returncode == 0, ours.stdout.decode()
    assert ("ok", "binary") in statuses(ours.stdout)


def test_doctor_checks_run_in_the_provider_env(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    cache_dir = tmp_path / "kubelet-cache"
    path = write(tmp_path, _config(env=[{"name": "AWS_ECR_CACHE_DIR", "value": str(cache_dir)}]))
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 0, result.stdout.decode()
    assert f"{cache_dir}/cache.json" in result.stdout.decode()
    assert (cache_dir / "cache.json").exists()  # the provider cached there too


def test_doctor_warns_when_no_role_can_be_chosen(
    run: Runner, denv: dict[str, str], tmp_path: Path
) -> None:
    attrs = dict(TOKEN_ATTRIBUTES)
    path = write(tmp_path, _config(tokenAttributes=attrs))
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 0
    assert ("warn", "kubelet") in statuses(result.stdout)
    assert "add eks.amazonaws.com/ecr-role-arn to optionalServiceAccountAnnotationKeys" in (
        result.stdout.decode()
    )


def test_doctor_on_an_image_that_is_not_on_ecr(
    run: Runner, denv: dict[str, str], tmp_path: Path, standin: StandIn
) -> None:
    path = write(tmp_path, _config())
    result = run(
        ["doctor", "--kubelet", "registry.k8s.io/pause:3.10", "--kubelet-config", str(path)],
        env_=denv,
    )
    rows = statuses(result.stdout)
    assert ("warn", "image") in rows
    assert ("info", "kubelet") in rows  # no provider covers it: the kubelet pulls anonymously
    assert not any(check in ("identity", "region", "provider") for _, check in rows)
    assert result.returncode == 0
    assert standin.calls == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("providers: [", "neither JSON nor YAML"),
        ("kind: Other\n", "is not a CredentialProviderConfig"),
        (
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n",
            "has no providers",
        ),
    ],
)
def test_doctor_on_an_unreadable_config(
    run: Runner, denv: dict[str, str], tmp_path: Path, content: str, says: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content)
    result = run(["doctor", "--kubelet", IMAGE, "--kubelet-config", str(path)], env_=denv)
    assert result.returncode == 1
    assert says in result.stdout.decode()
    assert "Traceback" not in (result.stdout + result.stderr).decode()


def test_doctor_never_prints_the_password(
    run: Runner, denv: dict[str, str], standin: StandIn
) -> None:
    result = run(["doctor", "--kubelet", IMAGE], env_=denv)
    assert result.returncode == 0, result.stdout.decode()
    (call,) = standin.calls
    password = f"123456789012-eu-west-2-{call.serial}"
    assert password.encode() not in result.stdout + result.stderr
    assert ("info", "kubelet") in statuses(result.stdout)  # no --kubelet-config given


def test_doctor_kubelet_argument_errors(run: Runner, denv: dict[str, str]) -> None:
    alone = run(["doctor", "--kubelet-config", "/x"], env_=denv)
    assert alone.returncode == 2 and b"--kubelet-config needs --kubelet IMAGE" in alone.stderr
    both = run(["doctor", HOST, "--kubelet", IMAGE], env_=denv)
    assert both.returncode == 2 and b"not both" in both.stderr
