"""Shared fixtures: an isolated environment, the AWS stand-in, moto's STS, and helper runners."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from support import (  # noqa: E402
    ACCESS_KEY,
    CONSOLE_SCRIPT,
    IN_PROCESS,
    SECRET_KEY,
    Runner,
    base_env,
    helper_builds,
    run_helper,
)
from support.standin import StandIn  # noqa: E402


@pytest.fixture(params=helper_builds())
def helper_exe(request: pytest.FixtureRequest) -> str:
    """Each build of the helper in turn (the frozen ones only when built)."""
    path = str(request.param)
    if not Path(path).exists():
        pytest.fail(f"{path} is missing although ECR_TEST_FROZEN=1 (run make binary)")
    return path


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A fresh ECR / ECR Public stand-in for one test."""
    server = StandIn().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path, standin: StandIn) -> dict[str, str]:
    """Static keys, every ECR endpoint at the stand-in."""
    values = base_env(home)
    values.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_ECR": standin.url,
            "AWS_ENDPOINT_URL_ECR_PUBLIC": standin.url,
        }
    )
    return values


@pytest.fixture
def run(env: dict[str, str]) -> Runner:
    """Run the helper in process (``_cli.run``) with the test environment (override with
    ``env=``); ``run_process`` is the same through the console script as a subprocess."""

    def runner(
        args: list[str], stdin: bytes | None = b"", env_: dict[str, str] | None = None, **kw: Any
    ) -> subprocess.CompletedProcess[bytes]:
        return run_helper(IN_PROCESS, args, stdin, env_ if env_ is not None else env, **kw)

    return runner


@pytest.fixture
def run_process(env: dict[str, str]) -> Runner:
    """Run the console script as a subprocess (a fresh interpreter: imports, umask, signals)."""

    def runner(
        args: list[str], stdin: bytes | None = b"", env_: dict[str, str] | None = None, **kw: Any
    ) -> subprocess.CompletedProcess[bytes]:
        return run_helper(str(CONSOLE_SCRIPT), args, stdin, env_ if env_ is not None else env, **kw)

    return runner


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server (STS for IRSA and profile tests), one per session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def counting_sts() -> Iterator[Any]:
    """moto's STS on its own, counting each action and keeping its parameters (one per test)."""
    from support.sts import counting_sts

    with counting_sts() as server:
        yield server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item (the fault matrix reads ``rep_call``)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault matrix as one table, when its cases ran."""
    module = sys.modules.get("test_faults")
    rows: list[dict[str, Any]] = getattr(module, "FAULT_ROWS", [])
    if not rows:
        return
    write = terminalreporter.write_line
    write("")
    write("fault matrix")
    header = (
        f"{'case':<52} {'answer':<28} {'time':>7} {'bound':>6}  {'cache afterwards':<24} result"
    )
    write(header)
    write("-" * len(header))
    slowest: dict[str, float] = {}
    for row in rows:
        write(
            f"{row['case'][:52]:<52} {row['answer'][:28]:<28} {row['time']:6.2f}s "
            f"{row['bound']:5.1f}s  {row['cache'][:24]:<24} {row['result']}"
        )
        group = row["case"].split(" ")[0]
        slowest[group] = max(slowest.get(group, 0.0), row["time"])
    passed = sum(1 for row in rows if row["result"] == "pass")
    torn = sum(1 for row in rows if "TORN" in row["cache"])
    write("-" * len(header))
    failed = len(rows) - passed
    write(f"cases: {len(rows)}, passed: {passed}, failed: {failed}, torn cache files: {torn}")
    write("slowest answer per group: " + ", ".join(f"{k} {v:.2f}s" for k, v in slowest.items()))
