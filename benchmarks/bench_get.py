"""Cached ``get``: this helper (console script in a fresh venv, and the frozen builds when built)
against the Go helper and a bare interpreter; cold ``get`` against the local stand-in; peak memory;
AWS calls made by 50 concurrent cold gets; STS and ECR calls made by 100 sequential gets under IRSA.

    python benchmarks/bench_get.py [--runs N] [--venv DIR] [--reinstall] [--against REV]

``--against REV`` also installs git revision REV in a venv of its own and times its console
script beside this tree's in the same interleaved run (before/after figures for a change).

Timings on a shared 2-core machine are noisy: commands are interleaved round-robin and reported as
medians and as ratios from the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.standin import StandIn  # noqa: E402

HOST = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
# Debian's Go helper, unpacked off PATH by `make deps` (or ECR_GO_HELPER)
GO_HELPER = os.environ.get("ECR_GO_HELPER") or str(
    ROOT / "build/peers/usr/bin/docker-credential-ecr-login"
)
MD5_EMPTY = bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e")


def fresh_venv(path: Path, reinstall: bool, source: Path = ROOT) -> Path:
    """The package installed alone, non-editable, as ``pipx install`` would."""
    exe = path / "bin" / "docker-credential-ecr-login"
    if exe.exists() and not reinstall:
        return exe
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "-q"]
    # pipx keeps its shared pip current; an old bundled pip writes scripts that import re.
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, str(source)], check=True)
    return exe


def revision_venv(rev: str) -> Path:
    """The console script of git revision ``rev``, in a venv of its own (rebuilt every time)."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = ROOT / "build" / f"bench-src-{sha}"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", sha], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    return fresh_venv(ROOT / "build" / f"bench-venv-{sha}", True, source)


def static_env(home: str, **extra: str) -> dict[str, str]:
    """Static test keys, nothing from this machine's AWS configuration."""
    return {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def write_cache(home: Path) -> None:
    """One token under both key shapes: ours (sha256) and the Go 0.6 helper's (MD5 quirk)."""
    now = time.time()
    token = base64.b64encode(b"AWS:bench-password").decode()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 12 * 3600))
    entry = {
        "AuthorizationToken": token,
        "RequestedAt": stamp,
        "ExpiresAt": expires,
        "ProxyEndpoint": f"https://{HOST}",
        "Service": "ecr",
    }
    import hashlib

    new = base64.b64encode(hashlib.sha256(ACCESS_KEY.encode()).digest()).decode()
    legacy = base64.b64encode(ACCESS_KEY.encode() + MD5_EMPTY).decode()
    registries = {f"eu-west-2-{new}-123456789012": entry, f"eu-west-2-{legacy}-123456789012": entry}
    (home / ".ecr").mkdir(mode=0o700)
    (home / ".ecr" / "cache.json").write_text(
        json.dumps({"Registries": registries, "Version": "1.0"}, indent=2)
    )


PEAK_RSS: dict[str, int] = {}
GNU_TIME = "/usr/bin/time"


def time_once(cmd: list[str], stdin: bytes, env: dict[str, str]) -> float:
    """Wall time of one run."""
    started = time.perf_counter()
    result = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {result.stdout!r} {result.stderr!r}")
    return elapsed


def peak_rss(cmd: list[str], stdin: bytes, env: dict[str, str], label: str, runs: int = 5) -> None:
    """Peak RSS (KiB) of ``cmd`` through GNU time: a small parent, so the figure is the child's
    own (wait4 from this Python process would count the forked copy of the benchmark)."""
    if not Path(GNU_TIME).exists():
        return
    with tempfile.NamedTemporaryFile() as out:
        for _ in range(runs):
            subprocess.run(
                [GNU_TIME, "-f", "%M", "-o", out.name, *cmd],
                input=stdin,
                capture_output=True,
                env=env,
                check=False,
            )
            value = int(Path(out.name).read_text().strip().splitlines()[-1])
            PEAK_RSS[label] = max(PEAK_RSS.get(label, 0), value)


def interleaved(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(3):  # warm-up
        for run in commands.values():
            run()
    for _ in range(runs):
        for name, run in commands.items():
            samples[name].append(run())
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def bench_cached(exe: Path, runs: int, others: dict[str, Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        write_cache(home)
        # Any AWS call would fail fast: a hit must not make one.
        env = static_env(str(home), AWS_ENDPOINT_URL="http://127.0.0.1:9")
        stdin = HOST.encode()
        cmds = {
            "python -I -S -c pass": [sys.executable, "-I", "-S", "-c", "pass"],
            "this helper (console script)": [str(exe), "get"],
        }
        for name, other in others.items():
            cmds[f"console script @ {name}"] = [str(other), "get"]
        if Path(GO_HELPER).exists():
            cmds["Go helper 0.6.0 (Debian)"] = [GO_HELPER, "get"]
        for name, path in frozen_builds().items():
            cmds[f"this helper ({name})"] = [str(path), "get"]
        commands: dict[str, Callable[[], float]] = {
            name: (lambda c=cmd: time_once(c, b"" if "pass" in c else stdin, env))
            for name, cmd in cmds.items()
        }
        medians = interleaved(commands, runs)
        for name, cmd in cmds.items():
            peak_rss(cmd, b"" if "pass" in cmd else stdin, env, f"cached get, {name}")
    print(f"\ncached get, median of {runs} (interleaved):")
    base = medians.get("Go helper 0.6.0 (Debian)")
    for name, value in medians.items():
        ratio = f"{value / base:5.2f}x Go" if base else "(Go helper not installed)"
        print(f"  {name:36s} {value:7.1f} ms   {ratio}")


def frozen_builds() -> dict[str, Path]:
    builds = {
        "onedir": ROOT / "dist/docker-credential-ecr-login/docker-credential-ecr-login",
        "static": ROOT / "dist/docker-credential-ecr-login-static",
    }
    return {name: path for name, path in builds.items() if path.exists()}


def bench_cold(exe: Path, runs: int, others: dict[str, Path]) -> None:
    """Every get fetches (cache off) from the local stand-in: botocore import, client, HTTP."""
    with StandIn() as aws, tempfile.TemporaryDirectory() as tmp:
        env = static_env(tmp, AWS_ENDPOINT_URL_ECR=aws.url, AWS_ECR_DISABLE_CACHE="1")
        commands: dict[str, Callable[[], float]] = {
            "console script": lambda: time_once([str(exe), "get"], HOST.encode(), env)
        }
        for name, other in others.items():
            commands[f"console script @ {name}"] = lambda p=other: time_once(
                [str(p), "get"], HOST.encode(), env
            )
        for name, path in frozen_builds().items():
            commands[name] = lambda p=path: time_once([str(p), "get"], HOST.encode(), env)
        medians = interleaved(commands, runs)
        peak_rss([str(exe), "get"], HOST.encode(), env, "cold get, console script")
        for name, path in frozen_builds().items():
            peak_rss([str(path), "get"], HOST.encode(), env, f"cold get, {name}")
        calls = aws.count()
    print(f"\ncold get (fetch from the local stand-in every time), median of {runs}:")
    for name, value in medians.items():
        print(f"  {name:32s} {value:7.1f} ms")
    print(f"  ({calls} GetAuthorizationToken calls)")


def report_memory() -> None:
    print("\npeak RSS (GNU time, max of 5 runs each):")
    for label, kib in PEAK_RSS.items():
        print(f"  {label:44s} {kib / 1024:7.1f} MiB")


def bench_concurrent(exe: Path) -> None:
    with StandIn() as aws, tempfile.TemporaryDirectory() as tmp:
        env = static_env(tmp, AWS_ENDPOINT_URL_ECR=aws.url)
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [str(exe), "get"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for _ in range(50)
        ]
        codes = [
            proc.communicate(HOST.encode(), timeout=120)[0] and proc.returncode for proc in procs
        ]
        elapsed = time.perf_counter() - started
    ok = sum(1 for code in codes if code == 0)
    print(
        f"\n50 concurrent cold gets: {ok}/50 answered, GetAuthorizationToken calls: {aws.count()}"
    )
    print(f"  wall time for all 50: {elapsed * 1000:.0f} ms")


def bench_irsa(exe: Path) -> None:
    from moto.server import ThreadedMotoServer
    from moto.sts import responses as sts_responses

    calls = {"sts": 0}
    original = sts_responses.TokenResponse.assume_role_with_web_identity

    def counting(self: object) -> str:
        calls["sts"] += 1
        return original(self)  # type: ignore[arg-type]

    sts_responses.TokenResponse.assume_role_with_web_identity = counting  # type: ignore[method-assign]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    try:
        with StandIn() as aws, tempfile.TemporaryDirectory() as tmp:
            claims = (
                base64.urlsafe_b64encode(
                    json.dumps(
                        {"iss": "https://oidc.example", "sub": "system:serviceaccount:ci:runner"}
                    ).encode()
                )
                .decode()
                .rstrip("=")
            )
            token = Path(tmp) / "token"
            token.write_text(f"eyJhbGciOiJSUzI1NiJ9.{claims}.sig")
            env = {
                "HOME": tmp,
                "PATH": "/usr/bin:/bin",
                "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/irsa-runner",
                "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
                "AWS_ENDPOINT_URL_STS": f"http://{host}:{port}",
                "AWS_ENDPOINT_URL_ECR": aws.url,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            times = [time_once([str(exe), "get"], HOST.encode(), env) for _ in range(100)]
            ecr_calls = aws.count()
    finally:
        moto.stop()
        sts_responses.TokenResponse.assume_role_with_web_identity = original  # type: ignore[method-assign]
    print(f"\n100 sequential gets under IRSA: STS calls {calls['sts']}, ECR calls {ecr_calls}")
    print(
        f"  first (cold) {times[0] * 1000:.0f} ms, median {statistics.median(times) * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "bench-venv")
    parser.add_argument("--reinstall", action="store_true")
    parser.add_argument("--against", metavar="REV", help="also time git revision REV")
    args = parser.parse_args()
    exe = fresh_venv(args.venv, args.reinstall)
    others = {args.against: revision_venv(args.against)} if args.against else {}
    print(f"console script: {exe}")
    bench_cached(exe, args.runs, others)
    bench_cold(exe, max(args.runs // 4, 5), others)
    report_memory()
    bench_concurrent(exe)
    bench_irsa(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
