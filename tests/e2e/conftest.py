"""End-to-end fixtures (see ``ecr_e2e``): a module-scoped registry and the helper's environment.

Fixtures:

* ``ecr_registry_extra_names`` (module): extra host names served by the registry (in the hosts
  file and the certificate SAN).  Default ``(ALIAS_HOST,)``; a test module may override it.
* ``ecr_registry`` (module): an ``ecr_e2e.EcrRegistry``, started once per module, stopped at
  teardown.  ``.host``, ``.names``, ``.address``, ``.ca_dir``, ``.hosts_file``,
  ``.run_skopeo(args, env, registries_conf=None)``, ``.copy(src, dest, env)``,
  ``.inspect(ref, env, *extra)``, ``.in_namespace(argv)``, ``.ref(repo_tag, host=None)``.
* ``tiny_image`` (module): a one-layer OCI layout tagged v1 (``tiny_image.TinyImage``).
* ``e2e_standin``: the function-scoped ``standin`` told to issue the registry's password.
* ``e2e_env``: skopeo's environment (isolated HOME, fake keys, ECR at the stand-in, our helper
  first on PATH).  ``ecr_e2e.helper_env(home, url)`` makes more (e.g. a second, empty cache).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import engines
import pytest
import tiny_image as tiny
from ecr_e2e import (
    ALIAS_HOST,
    BUSYBOX_REPO,
    E2E_PASSWORD_TEMPLATE,
    EcrRegistry,
    ecr_registry_at,
    helper_env,
    plain_registry_at,
)

from support.standin import StandIn


@pytest.fixture(scope="module")
def ecr_registry_extra_names() -> tuple[str, ...]:
    """Names besides the ECR host that resolve to the registry and are in its certificate."""
    return (ALIAS_HOST,)


@pytest.fixture(scope="module")
def ecr_registry(
    tmp_path_factory: pytest.TempPathFactory, ecr_registry_extra_names: tuple[str, ...]
) -> Iterator[EcrRegistry]:
    """docker-registry on <loopback>:443 as https://123456789012.dkr.ecr.eu-west-2.amazonaws.com."""
    with ecr_registry_at(tmp_path_factory.mktemp("registry"), ecr_registry_extra_names) as reg:
        yield reg


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> tiny.TinyImage:
    """A one-layer OCI layout tagged v1."""
    return tiny.build(tmp_path_factory.mktemp("oci") / "layout")


@pytest.fixture
def e2e_standin(standin: StandIn) -> StandIn:
    """The stand-in, issuing exactly the password the registry's htpasswd holds."""
    standin.configure(password_template=E2E_PASSWORD_TEMPLATE)
    return standin


@pytest.fixture
def e2e_env(tmp_path: Path, e2e_standin: StandIn) -> dict[str, str]:
    """skopeo's environment, handed down to the helper."""
    env: dict[str, str] = helper_env(tmp_path / "home", e2e_standin.url)
    return env


# -- real engines (session-wide: one registry on [::1]:443, one dockerd, images built once) ------


@pytest.fixture(scope="session")
def engine_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcrRegistry]:
    """The ECR registry for the engines, on ``[::1]:443``: dockerd verifies TLS there (it treats
    all of 127/8 as insecure and would fall back to plain HTTP)."""
    directory = tmp_path_factory.mktemp("engine-registry")
    with engines.engines_lock(), ecr_registry_at(directory, (ALIAS_HOST,), address="::1") as reg:
        yield reg


@pytest.fixture(scope="session")
def anonymous_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcrRegistry]:
    """A non-ECR registry: plain HTTP on 127.0.0.1, no auth."""
    with plain_registry_at(tmp_path_factory.mktemp("anonymous-registry")) as registry:
        yield registry


@pytest.fixture(scope="session")
def dockerd(
    tmp_path_factory: pytest.TempPathFactory,
    engine_registry: EcrRegistry,
    anonymous_registry: EcrRegistry,
) -> Iterator[engines.Dockerd]:
    """dockerd 20.10 in its own mount namespace, with ``engines.BUSYBOX`` imported and pushed to
    both registries as ``e2e/busybox:1`` (through static auths, no helper)."""
    directory = tmp_path_factory.mktemp("dockerd")
    with engines.dockerd_for(directory, engine_registry) as daemon:
        engines.docker_import(
            daemon, engines.busybox_rootfs(directory / "busybox"), engines.BUSYBOX
        )
        seed = daemon.seed_config()
        for registry in (engine_registry, anonymous_registry):
            ref = registry.image(BUSYBOX_REPO)
            engines.checked(daemon.docker(["tag", engines.BUSYBOX, ref], seed), "docker tag")
            engines.checked(daemon.docker(["push", ref], seed), f"docker push {ref}")
            engines.checked(daemon.docker(["rmi", ref], seed), "docker rmi")
        yield daemon


@pytest.fixture(scope="session")
def job_images(
    tmp_path_factory: pytest.TempPathFactory, dockerd: engines.Dockerd
) -> engines.JobImages:
    """The job images (Debian flavour with the onedir; pip-installed console script), built once."""
    images = engines.JobImages(dockerd, tmp_path_factory.mktemp("images"))
    images.build_bases()
    images.build_job_image()
    images.build_pip_job_image(Path(sys.executable))
    return images


@pytest.fixture(scope="session")
def podman_root() -> Iterator[Path]:
    with engines.podman_storage() as path:
        yield path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The job images' build times and size, when they were built."""
    if engines.REPORT:
        terminalreporter.section("engines")
        for name, value in engines.REPORT.items():
            terminalreporter.write_line(f"{name}: {value}")
