"""The kubelet credential provider: a cached and a cold answer of each build, beside the Docker
``get`` of the same build (the same engine and cache, so the difference is the protocol).

    python benchmarks/bench_kubelet.py [--runs N] [--venv DIR] [--reinstall]

Cached: the token is in ``cache.json`` and every AWS endpoint is a closed port (a hit must make
no call). Cold: caching off, every answer fetches from the local stand-in. Commands are
interleaved round-robin; medians in ms, ratios from the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_get import (
    HOST,
    ROOT,
    StandIn,
    fresh_venv,
    frozen_builds,
    interleaved,
    static_env,
    time_once,
    write_cache,
)

REQUEST = (
    json.dumps(
        {
            "kind": "CredentialProviderRequest",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "image": f"{HOST}/app",
        }
    )
    + "\n"
).encode()
PROVIDERS = {
    "onedir": ROOT / "dist/docker-credential-ecr-login/ecr-credential-provider",
    "static": ROOT / "dist/ecr-credential-provider",
}


def commands(exe: Path, env: dict[str, str]) -> dict[str, Callable[[], float]]:
    """``get`` and the provider of each build."""
    builds = {"console script": (exe, exe.parent / "ecr-credential-provider")}
    for name, path in frozen_builds().items():
        builds[name] = (path, PROVIDERS[name])
    out: dict[str, Callable[[], float]] = {}
    for name, (helper, provider) in builds.items():
        out[f"{name}: docker get"] = lambda h=helper: time_once([str(h), "get"], HOST.encode(), env)
        out[f"{name}: kubelet answer"] = lambda p=provider: time_once([str(p)], REQUEST, env)
    return out


def report(title: str, medians: dict[str, float]) -> None:
    print(f"\n{title}:")
    for name, value in medians.items():
        ratio = ""
        if name.endswith("kubelet answer"):
            get = medians[name.replace("kubelet answer", "docker get")]
            ratio = f"   {value / get:4.2f}x this build's get"
        print(f"  {name:34s} {value:7.1f} ms{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "bench-venv")
    parser.add_argument("--reinstall", action="store_true")
    args = parser.parse_args()
    exe = fresh_venv(args.venv, args.reinstall)
    with tempfile.TemporaryDirectory() as tmp:
        write_cache(Path(tmp))
        env = static_env(tmp, AWS_ENDPOINT_URL="http://127.0.0.1:9")
        report(f"cached, median of {args.runs}", interleaved(commands(exe, env), args.runs))
    with StandIn() as aws, tempfile.TemporaryDirectory() as tmp:
        env = static_env(tmp, AWS_ENDPOINT_URL_ECR=aws.url, AWS_ECR_DISABLE_CACHE="1")
        runs = max(args.runs // 3, 5)
        cold = commands(exe, env)
        report(f"cold (fetch every time), median of {runs}", interleaved(cold, runs))
        expected = (3 + runs) * len(cold)  # interleaved() warms up with 3 rounds
        print(f"  ({aws.count()} GetAuthorizationToken calls, {expected} expected: one per answer)")
        if aws.count() != expected:
            raise SystemExit("a cold answer made no AWS call: the figures above are not cold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
