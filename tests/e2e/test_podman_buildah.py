"""podman and buildah -> docker-credential-ecr-login (each build) -> AWS stand-in.

Both run rootful with private vfs storage in the registry's mount namespace (``engines.Podman``),
and find the helper two ways: ``credHelpers`` in ``REGISTRY_AUTH_FILE``, and
``credential-helpers`` in ``registries.conf`` (``CONTAINERS_REGISTRIES_CONF``). skopeo has its own
tests (``test_skopeo.py``).
"""

from __future__ import annotations

from pathlib import Path

import engines
import pytest
from ecr_e2e import (
    BUSYBOX_REPO,
    HELPER_NAME,
    HOST,
    REGION,
    EcrRegistry,
    authorized_requests,
    helper_env,
    helper_log,
    write_cred_helpers,
    write_registries_conf,
)

from support.standin import StandIn

pytestmark = [pytest.mark.e2e, pytest.mark.engines]


def engine_env(helper: str, home: Path, standin: StandIn) -> dict[str, str]:
    env: dict[str, str] = helper_env(home, standin.url, helper)
    # Nothing from the machine's own containers configuration: an empty registries.conf unless a
    # test writes one, and no auth file but the test's.
    empty = home / "registries.conf"
    empty.write_text("")
    env["CONTAINERS_REGISTRIES_CONF"] = str(empty)
    return env


def configure(mode: str, env: dict[str, str], home: Path) -> None:
    if mode == "auth-file":  # credHelpers in REGISTRY_AUTH_FILE
        env["REGISTRY_AUTH_FILE"] = str(write_cred_helpers(home / "auth.json", [HOST]))
        return
    assert mode == "registries-conf"
    # Only registries.conf names the helper; the auth file's decoy would fail were it consulted.
    env["REGISTRY_AUTH_FILE"] = str(
        write_cred_helpers(home / "auth.json", [HOST], "e2e-decoy-missing")
    )
    conf = write_registries_conf(home / "registries.conf", [HELPER_NAME])
    env["CONTAINERS_REGISTRIES_CONF"] = str(conf)


@pytest.mark.usefixtures("dockerd")  # it pushed e2e/busybox:1 to the registry
@pytest.mark.parametrize("mode", ["auth-file", "registries-conf"])
@pytest.mark.parametrize("tool", ["podman", "buildah"])
def test_pull(
    tool: str,
    mode: str,
    engine_registry: EcrRegistry,
    podman_root: Path,
    helper_exe: str,
    e2e_standin: StandIn,
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = engine_env(helper_exe, home, e2e_standin)
    configure(mode, env, home)
    engine = engines.Podman(tool, engine_registry, podman_root / tool)
    mark = len(engine_registry.log_text())
    result = engine.pull(engine_registry.image(BUSYBOX_REPO), env)
    engine.clear()
    assert result.returncode == 0, f"{tool} pull failed:\n{result.stderr}\n{helper_log(env)}"
    assert result.stdout.strip(), result  # the image id
    calls = e2e_standin.snapshot()
    assert [(c.service, c.status, c.region) for c in calls] == [("ecr", 200, REGION)]
    assert ("GET", "/v2/e2e/busybox/manifests/1") in authorized_requests(
        engine_registry.log_text()[mark:]
    )
