"""Startup of the frozen builds against the console script and a bare interpreter.

    python benchmarks/bench_frozen.py [--runs 20] [--warmup 3]

Needs hyperfine. Measures ``version`` (start-up plus the smallest command) for every build that
exists, then a cache-hit ``get`` (the path Docker takes on every pull; ``sh -c`` because hyperfine
1.15 cannot feed stdin), with the cache warmed once through the local AWS stand-in. Prints medians
and the ratio to ``python -I -S -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BIN = Path(sys.executable).parent
HOST = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
BUILDS = {
    "console script": BIN / "docker-credential-ecr-login",
    "onedir": ROOT / "dist" / "docker-credential-ecr-login" / "docker-credential-ecr-login",
    "static": ROOT / "dist" / "docker-credential-ecr-login-static",
}


def hyperfine(
    commands: dict[str, str], runs: int, warmup: int, env: dict[str, str]
) -> dict[str, float]:
    """Median wall time in ms per command name."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = [
            "hyperfine",
            "-N",
            "--warmup",
            str(warmup),
            "--runs",
            str(runs),
            "--style",
            "none",
            "--export-json",
            out.name,
        ]
        for name, cmd in commands.items():
            args += ["-n", name, cmd]
        subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
        results = json.loads(Path(out.name).read_text())["results"]
    return {r["command"]: r["median"] * 1000 for r in results}


def report(title: str, medians: dict[str, float], baseline: str) -> None:
    print(f"\n{title}")
    base = medians[baseline]
    for name, ms in medians.items():
        print(f"  {name:32s} {ms:8.1f} ms  x{ms / base:5.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    opts = p.parse_args()
    if shutil.which("hyperfine") is None:
        print("hyperfine is not installed (apt-get install hyperfine)", file=sys.stderr)
        return 1
    builds = {name: path for name, path in BUILDS.items() if path.exists()}
    if len(builds) == 1:
        print("no frozen build in dist/ (run make binary); measuring the console script only")

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "AKIDBENCHMARKKEY",
            "AWS_SECRET_ACCESS_KEY": "benchmark-secret",
        }
        python = f"{sys.executable} -I -S -c pass"
        version = {"python -I -S -c pass": python}
        version |= {name: f"{path} version" for name, path in builds.items()}
        report(
            "version (start-up), median",
            hyperfine(version, opts.runs, opts.warmup, env),
            "python -I -S -c pass",
        )

        from standin import StandIn  # type: ignore[import-not-found]  # tests/ on sys.path

        with StandIn() as standin:
            warm_env = env | {"AWS_ENDPOINT_URL_ECR": standin.url}
            warm = subprocess.run(
                [str(builds["console script"]), "get"],
                input=HOST.encode(),
                env=warm_env,
                capture_output=True,
                check=False,
            )
            if warm.returncode != 0:
                print(f"could not warm the cache: {warm.stderr.decode()}", file=sys.stderr)
                return 1
        # The stand-in is gone: a miss would fail, so every measured call is a hit.
        hit = {"sh + python -I -S -c pass": f"sh -c 'echo {HOST} | {python}'"}
        hit |= {name: f"sh -c 'echo {HOST} | {path} get'" for name, path in builds.items()}
        for name, cmd in hit.items():
            check = subprocess.run(cmd, shell=True, env=env, capture_output=True, check=False)
            if check.returncode != 0:
                print(f"{name}: cache-hit get failed: {check.stderr.decode()}", file=sys.stderr)
                return 1
        report(
            "get, cache hit (through sh -c), median",
            hyperfine(hit, opts.runs, opts.warmup, env),
            "sh + python -I -S -c pass",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
