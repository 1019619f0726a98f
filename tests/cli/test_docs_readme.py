"""The README and docs/reference.md stay true: every block parses, every command and option they
show exists, the README's exit-status table matches each command's --help, local links resolve,
the README stays a short front page, and nothing the old long README said was lost."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from docker_credential_ecr_py._commands import HELP
from support import IN_PROCESS, ROOT, base_env, run_helper

PAGES = [ROOT / "README.md", ROOT / "docs" / "reference.md", ROOT / "CHANGELOG.md"]
_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
COMMANDS = ("configure-docker", "gitlab-auth-config", "doctor", "cache")


def blocks() -> list[tuple[str, str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in _FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{page.name}:{line}", match.group(1), match.group(2)))
    return found


BLOCKS = blocks()


@pytest.mark.parametrize(("where", "lang", "text"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_parses(where: str, lang: str, text: str) -> None:
    assert lang in ("sh", "json", "toml", "yaml", "", "text"), where
    if lang == "json":
        json.loads(text)
    elif lang == "toml":
        tomllib.loads(text)
    elif lang == "yaml":
        yaml.safe_load(text)
    elif lang == "sh":
        checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, (where, checked.stderr)


def _help(args: list[str]) -> str:
    proc = run_helper(IN_PROCESS, [*args, "--help"], b"", base_env(Path("/nonexistent")))
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout.decode()


SHOWN = sorted(
    {
        line.split("#", 1)[0].strip()
        for _, lang, text in BLOCKS
        if lang == "sh"
        for line in text.splitlines()
        if line.strip().startswith("docker-credential-ecr-login ")
    }
)


@pytest.mark.parametrize("line", SHOWN)
def test_every_command_and_option_shown_exists(line: str) -> None:
    words = line.split()[1:]
    assert words[0] in COMMANDS or f"  {words[0]}" in HELP, line
    if words[0] not in COMMANDS:
        return
    args = [words[0]]
    if words[0] == "cache" and len(words) > 1 and not words[1].startswith("-"):
        args.append(words[1])
    text = _help(args)
    for word in words[1:]:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in text, (line, word)


def test_readme_exit_statuses_match_each_commands_help() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Exit statuses") :]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0] != "command":
            rows[cells[0].replace("`", "")] = cells[1:]
    for command in COMMANDS:
        codes = re.findall(r"^  (\d) ", _help([command]).split("exit status:")[1], re.M)
        documented = [str(i) for i, cell in enumerate(rows[command]) if cell]
        assert documented == codes, command
    for verb in ("get", "list", "store, erase", "ecr-credential-provider"):
        assert verb in rows, verb
    provider = _help(["kubelet-credential-provider"])
    said = re.findall(
        r"(\d) (?:answered|the request could not be answered|bad arguments)", provider
    )
    documented = [str(i) for i, cell in enumerate(rows["ecr-credential-provider"]) if cell]
    assert documented == said == ["0", "1", "2"]


def test_local_links_resolve() -> None:
    for page in [*PAGES, *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), (page.name, target)


def test_readme_is_a_short_front_page() -> None:
    text = (ROOT / "README.md").read_text()
    prose = _FENCE.sub("", text).split()
    assert 500 <= len(prose) <= 900, len(prose)
    for heading in ("## Install", "## Configure", "## Verify with a real pull", "## doctor"):
        assert f"\n{heading}\n" in text, heading
    assert "docker pull " in text


# Phrases of the long README that moved to docs/reference.md: none may be lost.
KEPT = [
    "bufio.Scanner: token too long",
    "Spoofs such as",
    "AWS_ECR_LOG_MAX_BYTES",
    "AWS_ECR_IGNORE_CREDS_STORAGE",
    "AWS_ECR_DISABLE_CACHE",
    "idfp:",
    "at least 5 minutes",
    "A failed fetch leaves a marker for 5 s",
    ".config.parsed.json",
    "credential-helpers = [",
    "dual-stack",
    "cloud.adc-e.uk",
    "XDG_RUNTIME_DIR",
    "Throttling and 5xx answers are retried",
    "`_lean/`",
    "make faults",
    "AWS_ECR_REGISTRIES",
    "writable temp dir",
    "SHA256SUMS",
]


@pytest.mark.parametrize("phrase", KEPT)
def test_reference_keeps_what_the_long_readme_said(phrase: str) -> None:
    assert phrase in (ROOT / "docs" / "reference.md").read_text(), phrase


def test_changelog_has_this_version() -> None:
    from docker_credential_ecr_py import __version__

    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d\d-\d\d$", text, re.M)
    assert "Contact:" in (ROOT / "docs" / "SECURITY.md").read_text()
