"""Every toml / yaml / json example in docs/gitlab parses, and matches what the helper prints.

``DOCKER_AUTH_CONFIG`` values must be exactly what ``gitlab-auth-config`` prints for their hosts,
and ``config.json`` contents what ``configure-docker --dry-run`` prints (compared as JSON).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from docker_credential_ecr_py._commands.configure import (
    configure_docker_main,
    gitlab_auth_config_main,
)
from support import run_command

DOCS = Path(__file__).resolve().parents[2] / "docs" / "gitlab"
CENTRAL_HOST = "111122223333.dkr.ecr.eu-west-2.amazonaws.com"
PULL_ACTIONS = {
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
}
_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
_ECR_HOST = re.compile(r"\b\d{12}\.dkr[.-]ecr(?:-fips)?\.[a-z0-9-]+\.[a-z.]+[a-z]\b")
# A JSON object written into config.json by a shell line: '{"credHelpers":...}'
_SHELL_JSON = re.compile(r"'(\{\"cred(?:Helpers|sStore)\".*?\})'")


@dataclass
class Block:
    """One fenced code block."""

    file: str
    line: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.lang}"


@dataclass
class Found:
    """Values found in the parsed examples that the helper's own output must match."""

    auth_configs: list[tuple[str, str]] = field(default_factory=list)
    config_jsons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    policies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _blocks() -> list[Block]:
    blocks = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(Block(path.name, line, match.group(1).lower(), match.group(2)))
    return blocks


BLOCKS = _blocks()
PARSED = [b for b in BLOCKS if b.lang in ("toml", "yaml", "yml", "json")]


def _parse(block: Block) -> list[Any]:
    if block.lang == "toml":
        return [tomllib.loads(block.text)]
    if block.lang in ("yaml", "yml"):
        return [doc for doc in yaml.safe_load_all(block.text) if doc is not None]
    return [json.loads(block.text)]


def _collect(value: Any, where: str, found: Found, key: str = "") -> None:
    """Walk a parsed example and pick out auth configs, config.json objects and IAM policies."""
    if isinstance(value, dict):
        if "credHelpers" in value or "credsStore" in value:
            found.config_jsons.append((where, value))
        if "Statement" in value and "Version" in value:
            found.policies.append((where, value))
        # Kubernetes env lists: {"name": "DOCKER_AUTH_CONFIG", "value": "..."}
        if value.get("name") == "DOCKER_AUTH_CONFIG" and isinstance(value.get("value"), str):
            found.auth_configs.append((where, value["value"]))
        for k, v in value.items():
            _collect(v, where, found, str(k))
    elif isinstance(value, list):
        for item in value:
            _collect(item, where, found, key)
    elif isinstance(value, str):
        _collect_string(value, where, found, key)


def _collect_string(text: str, where: str, found: Found, key: str) -> None:
    if key == "DOCKER_AUTH_CONFIG":
        found.auth_configs.append((where, text))
    elif text.startswith("DOCKER_AUTH_CONFIG="):
        found.auth_configs.append((where, text.removeprefix("DOCKER_AUTH_CONFIG=")))
    elif key == "config" and "[[runners]]" in text:
        # The gitlab-runner chart's runners.config: a config.toml inside the YAML.
        _collect(tomllib.loads(text), f"{where} runners.config", found)
        return
    for match in _SHELL_JSON.finditer(text):
        found.config_jsons.append((f"{where} ({key} shell)", json.loads(match.group(1))))


def _found() -> Found:
    found = Found()
    for block in PARSED:
        for doc in _parse(block):
            _collect(doc, block.id, found)
    return found


FOUND = _found()


def _gitlab_auth_config(argv: list[str]) -> str:
    code, out, err = run_command(gitlab_auth_config_main, argv, {"PATH": ""})
    assert code == 0, err
    return out


def _configure_dry_run(argv: list[str], tmp_path: Path) -> str:
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": ""}
    code, out, err = run_command(configure_docker_main, ["--dry-run", *argv], env)
    assert code == 0, err
    assert not (tmp_path / "docker").exists()
    return out


def _argv_for(value: dict[str, Any]) -> list[str]:
    if "credsStore" in value:
        assert value == {"credsStore": "ecr-login"}
        return ["--creds-store"]
    assert set(value) == {"credHelpers"}, "examples hold only what the helper writes"
    assert isinstance(value["credHelpers"], dict)
    return list(value["credHelpers"])


def test_docs_exist_and_have_examples() -> None:
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"README.md", "runner-manager.md", "job-images.md", "account-layout.md"} <= names
    langs = {b.lang for b in PARSED}
    assert {"toml", "yaml", "json"} <= langs
    for name in names - {"README.md"}:
        assert any(b.file == name for b in PARSED), f"{name} has no parsed example"


def test_only_tagged_languages_are_used() -> None:
    untagged = [b.id for b in BLOCKS if not b.lang]
    assert untagged == [], "every fenced block needs a language tag"


@pytest.mark.parametrize("block", PARSED, ids=lambda b: b.id)
def test_block_parses(block: Block) -> None:
    assert _parse(block), f"{block.id} is empty"


def test_examples_were_found() -> None:
    # Guards against the walk silently finding nothing (and the tests below passing vacuously).
    assert len(FOUND.auth_configs) >= 5
    assert len(FOUND.config_jsons) >= 3
    assert len(FOUND.policies) >= 5
    sources = {where.split(":")[0] for where, _ in FOUND.auth_configs}
    assert {"README.md", "runner-manager.md", "job-images.md"} <= sources


@pytest.mark.parametrize("item", FOUND.auth_configs, ids=lambda i: i[0])
def test_docker_auth_config_matches_gitlab_auth_config(item: tuple[str, str]) -> None:
    where, text = item
    value = json.loads(text)
    printed = _gitlab_auth_config(_argv_for(value))
    assert json.loads(printed) == value, where
    # Stronger: the docs show the command's output verbatim (compact, same order).
    assert text == printed.rstrip("\n"), where


@pytest.mark.parametrize("item", FOUND.config_jsons, ids=lambda i: i[0])
def test_config_json_matches_configure_docker(item: tuple[str, Any], tmp_path: Path) -> None:
    where, value = item
    printed = _configure_dry_run(_argv_for(value), tmp_path)
    assert json.loads(printed) == value, where


@pytest.mark.parametrize(
    "block",
    [b for b in PARSED if b.lang == "json" and b.text.startswith("{\n\t")],
    ids=lambda b: b.id,
)
def test_tab_indented_config_json_is_verbatim_dry_run_output(block: Block, tmp_path: Path) -> None:
    assert block.text == _configure_dry_run(_argv_for(json.loads(block.text)), tmp_path)


def test_one_registry_host_throughout() -> None:
    hosts = set()
    for path in DOCS.glob("*.md"):
        hosts.update(_ECR_HOST.findall(path.read_text(encoding="utf-8")))
    assert hosts == {CENTRAL_HOST}


@pytest.mark.parametrize("item", FOUND.policies, ids=lambda i: i[0])
def test_iam_policies_are_well_formed(item: tuple[str, dict[str, Any]]) -> None:
    where, policy = item
    assert policy["Version"] == "2012-10-17", where
    assert isinstance(policy["Statement"], list) and policy["Statement"], where
    for statement in policy["Statement"]:
        assert statement["Effect"] in ("Allow", "Deny"), where
        assert "Action" in statement, where
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert re.fullmatch(r"(ecr|sts):[A-Za-z]+", action), (where, action)
        for arn in _strings(statement.get("Resource", [])):
            assert arn == "*" or arn.startswith("arn:aws:ecr:eu-west-2:111122223333:repository/")


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_central_policies_grant_the_pull_actions_to_child_accounts() -> None:
    granting = [
        (where, s)
        for where, policy in FOUND.policies
        for s in policy["Statement"]
        if "Principal" in s and "AWS" in s["Principal"]
    ]
    assert len(granting) >= 2  # repository policy and registry policy
    pulls = [(w, s) for w, s in granting if set(_strings(s["Action"])) >= PULL_ACTIONS]
    assert {w.split(":")[0] for w, _ in pulls} == {"account-layout.md"}
    assert len(pulls) >= 2
    for _, statement in pulls:
        principals = _strings(statement["Principal"]["AWS"])
        assert "arn:aws:iam::444455556666:role/gitlab-runner-manager" in principals


def test_irsa_roles_can_get_a_token_and_pull() -> None:
    identity_policies = [
        p
        for _, p in FOUND.policies
        if all("Principal" not in s for s in p["Statement"])
        and any(s["Action"] == "ecr:GetAuthorizationToken" for s in p["Statement"])
    ]
    assert len(identity_policies) >= 2  # runner manager and job pods
    for policy in identity_policies:
        token = [s for s in policy["Statement"] if s["Action"] == "ecr:GetAuthorizationToken"]
        assert token[0]["Resource"] == "*"
        actions = {a for s in policy["Statement"] for a in _strings(s["Action"])}
        assert actions >= PULL_ACTIONS


def test_trust_policy_is_for_the_runner_service_account() -> None:
    trusts = [
        s
        for _, p in FOUND.policies
        for s in p["Statement"]
        if s["Action"] == "sts:AssumeRoleWithWebIdentity"
    ]
    assert trusts
    for statement in trusts:
        assert statement["Principal"]["Federated"].startswith(
            "arn:aws:iam::444455556666:oidc-provider/oidc.eks.eu-west-2.amazonaws.com/id/"
        )
        conditions = statement["Condition"]["StringEquals"]
        subs = [v for k, v in conditions.items() if k.endswith(":sub")]
        assert subs == ["system:serviceaccount:gitlab-runner:gitlab-runner"]
        assert [v for k, v in conditions.items() if k.endswith(":aud")] == ["sts.amazonaws.com"]


def test_helm_values_annotate_the_service_account_with_the_role() -> None:
    values = [
        doc
        for b in PARSED
        if b.lang == "yaml"
        for doc in _parse(b)
        if isinstance(doc, dict) and "gitlabUrl" in doc
    ]
    assert len(values) >= 2
    for doc in values:
        annotations = doc["serviceAccount"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::444455556666:")
        runners = tomllib.loads(doc["runners"]["config"])["runners"]
        assert runners[0]["kubernetes"]["service_account"] == "gitlab-ci-jobs"


def pre_build_scripts() -> list[str]:
    """Every ``pre_build_script`` of a ``config.toml`` in the docs (also inside Helm values)."""
    scripts = []
    for block in PARSED:
        for doc in _parse(block):
            tomls = [doc] if block.lang == "toml" else []
            if isinstance(doc, dict) and isinstance(doc.get("runners"), dict):
                config = doc["runners"].get("config")
                if isinstance(config, str):
                    tomls.append(tomllib.loads(config))
            for parsed in tomls:
                scripts += [
                    r["pre_build_script"]
                    for r in parsed.get("runners", [])
                    if "pre_build_script" in r
                ]
    return scripts


def test_pre_build_script_merges_and_unsets_docker_auth_config() -> None:
    """The script merges (never ``>`` over config.json) and unsets the variable; the e2e job test
    runs it for real (tests/e2e/test_gitlab_job.py)."""
    scripts = pre_build_scripts()
    assert len(scripts) >= 2
    for script in scripts:
        assert "unset DOCKER_AUTH_CONFIG" in script
        assert "configure-docker --from-auth-config" in script
        assert "config.json" not in script  # no hand-written file that would replace it
