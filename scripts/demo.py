"""The main job, end to end, with no AWS account: a `get` through the Docker SDK for Python.

Starts the local ECR stand-in, points the helper at it with AWS_ENDPOINT_URL_ECR, and asks
``docker.credentials.Store("ecr-login")`` for a registry's credentials twice (the second answer
comes from the cache, with no AWS call).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import docker.credentials  # noqa: E402

from support.standin import StandIn  # noqa: E402

HOST = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"


def main() -> int:
    bin_dir = Path(sys.executable).parent
    with StandIn() as aws, tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLEDEMO",
            "AWS_SECRET_ACCESS_KEY": "demo-secret-key",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_ECR": aws.url,
            "AWS_ENDPOINT_URL_ECR_PUBLIC": aws.url,
        }
        os.environ.update(env)  # the SDK's subprocess inherits os.environ
        store = docker.credentials.Store("ecr-login", environment=env)
        print(f"AWS stand-in: {aws.url}")
        print(f"helper:       {store.exe}")
        calls = []
        for label in ("first get", "second get"):
            started = time.perf_counter()
            answer = store.get(HOST)
            elapsed = (time.perf_counter() - started) * 1000
            calls.append(aws.count())
            shown = dict(answer, Secret=answer["Secret"][:12] + "...")
            print(f"{label}: {elapsed:.0f} ms, GetAuthorizationToken calls so far: {calls[-1]}")
            print(f"  {shown}")
        print(f"cache file: {home}/.ecr/cache.json (removed with the demo's temporary home)")
        proven = calls == [1, 1] and answer["Username"] == "AWS"
        if proven:
            print(
                "demo: OK: the first get fetched a token from the stand-in, the second came "
                "from the cache; 1 AWS call in all"
            )
        else:
            print(f"demo: FAILED: expected 1 AWS call after each get, saw {calls}")
        return 0 if proven else 1


if __name__ == "__main__":
    sys.exit(main())
