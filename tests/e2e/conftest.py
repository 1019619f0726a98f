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

from collections.abc import Iterator
from pathlib import Path

import pytest
import tiny_image as tiny
from ecr_e2e import (
    ALIAS_HOST,
    E2E_PASSWORD_TEMPLATE,
    EcrRegistry,
    ecr_registry_at,
    helper_env,
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
