"""The get/list policy of ``EcrHelper`` against fakes: a token source that records and fails on
demand, a clock the test sets, and a real ``FileCache`` in a temporary directory. No AWS, no
subprocess: each case is a row of the table."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._context import Context
from docker_credential_ecr_py._errors import AwsError, CredentialsNotFound
from docker_credential_ecr_py._helper import EcrHelper
from docker_credential_ecr_py._log import Log
from docker_credential_ecr_py._registry import Registry
from docker_credential_ecr_py._settings import RegistryConfig, Settings
from docker_credential_ecr_py._token import Token

HOST = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
OTHER = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
WEST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
HOUR = 3600.0
NOW = float(int(time.time()))  # the real clock (the cache prunes by it), whole seconds


def b64(user_pw: str) -> str:
    return base64.b64encode(user_pw.encode()).decode()


class FakeSource:
    """A ``TokenSource``: hands out ``fresh-N`` tokens valid 12 h, or raises ``error``."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, str | None]] = []
        self.web_identities: list[tuple[str, str] | None] = []
        self.error: AwsError | None = None
        self.delay = 0.0

    def fetch(
        self,
        registry: Registry,
        profile: str | None,
        deadline: float,
        web_identity: tuple[str, str] | None = None,
    ) -> Token:
        self.calls.append((registry.host, profile))
        self.web_identities.append(web_identity)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return Token(
            b64(f"AWS:fresh-{len(self.calls)}"),
            self.clock() + 12 * HOUR,
            f"https://{registry.host}",
        )

    def fetch_default(self, region: str, profile: str | None, deadline: float) -> tuple[str, Token]:
        registry = Registry("ecr", f"123456789012.dkr.ecr.{region}.amazonaws.com")
        return "123456789012", self.fetch(registry, profile, deadline)


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    helper: EcrHelper
    source: FakeSource
    clock: FakeClock
    cache: _cache.FileCache
    ctx: Context


@pytest.fixture
def world(tmp_path: Path) -> World:
    env = {
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAPOLICYTEST",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_ECR_CACHE_DIR": str(tmp_path / "ecr"),
        "AWS_ECR_TIMEOUT": "60",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    (tmp_path / "ecr").mkdir(mode=0o700)
    clock = FakeClock()
    source = FakeSource(clock)
    log = Log("")
    cache = _cache.FileCache(str(tmp_path / "ecr"), log)
    config = RegistryConfig()
    config.aliases["registry.example.com"] = HOST
    config.profiles[OTHER] = "other-profile"
    ctx = Context(Settings(env), clock=clock, log=log, cache=cache, source=source, config=config)
    return World(EcrHelper(ctx), source, clock, cache, ctx)


def seed(world: World, age: float, lifetime: float = 12 * HOUR, host: str = HOST) -> None:
    """A cached ``cached`` token requested ``age`` seconds ago, living ``lifetime``."""
    registry, _ = world.helper.registry(host)
    assert registry is not None
    key = _cache.keys_for(world.ctx.identity(), registry, legacy=False)[0]
    requested = world.clock() - age
    entry = _cache.Entry(b64("AWS:cached"), requested, requested + lifetime, "", "ecr")
    world.cache.store(key, entry)


# (case, cached token's age in hours (None: nothing cached), AWS fails?, expected, AWS calls)
CASES = [
    ("nothing cached: fetch", None, False, "fresh-1", 1),
    ("fresh: cached, no call", 1.0, False, "cached", 0),
    ("just before half-life: cached", 5.99, False, "cached", 0),
    ("at half-life: refresh", 6.0, False, "fresh-1", 1),
    ("past half-life, refresh fails, hours left: cached", 7.0, True, "cached", 1),
    ("refresh fails, 6 min left: cached", 12 - 0.1, True, "cached", 1),
    ("refresh fails, 4 min left: not found", 12 - 4 / 60, True, None, 1),
    ("expired, refresh fails: not found", 13.0, True, None, 1),
    ("expired, refresh ok: fresh", 13.0, False, "fresh-1", 1),
    ("nothing cached, AWS fails: not found", None, True, None, 1),
]


@pytest.mark.parametrize(
    ("age", "fails", "expected", "calls"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_get_policy(
    world: World, age: float | None, fails: bool, expected: str | None, calls: int
) -> None:
    if age is not None:
        seed(world, age * HOUR)
    if fails:
        world.source.error = AwsError("ThrottlingException", "slow down", retryable=True)
    if expected is None:
        with pytest.raises(CredentialsNotFound):
            world.helper.get(HOST)
    else:
        assert world.helper.get(HOST) == ("AWS", expected)
    assert len(world.source.calls) == calls


def test_a_failure_marker_stops_the_next_fetch_for_a_while(world: World) -> None:
    world.source.error = AwsError("AccessDeniedException", "no")
    for _ in range(2):
        with pytest.raises(CredentialsNotFound):
            world.helper.get(HOST)
    assert len(world.source.calls) == 1  # the second get saw the marker, not AWS
    world.source.error = None
    registry = world.helper.registry(HOST)[0]
    assert registry is not None
    world.cache.clear_failure(_cache.keys_for(world.ctx.identity(), registry, legacy=False)[0])
    assert world.helper.get(HOST) == ("AWS", "fresh-2")


def test_a_fetch_is_cached_for_the_next_get(world: World) -> None:
    assert world.helper.get(HOST) == ("AWS", "fresh-1")
    world.clock.now += HOUR
    assert world.helper.get(HOST) == ("AWS", "fresh-1")
    assert len(world.source.calls) == 1


def test_an_alias_is_served_the_target_registry(world: World) -> None:
    assert world.helper.get("registry.example.com") == ("AWS", "fresh-1")
    assert world.source.calls == [(HOST, None)]
    assert world.helper.get(HOST) == ("AWS", "fresh-1")  # one entry for both names
    assert len(world.source.calls) == 1


def test_a_profile_mapped_to_a_registry_is_used_for_it(world: World) -> None:
    world.helper.get(OTHER)
    assert world.source.calls == [(OTHER, "other-profile")]


def test_a_host_that_is_not_ecr_is_not_found_without_a_call(world: World) -> None:
    with pytest.raises(CredentialsNotFound):
        world.helper.get("registry-1.docker.io")
    assert world.source.calls == []


def test_a_source_that_outlives_the_deadline_is_abandoned(world: World, tmp_path: Path) -> None:
    settings = Settings({**world.ctx.settings.env, "AWS_ECR_TIMEOUT": "0.5"})
    ctx = Context(
        settings,
        clock=world.clock,
        log=world.ctx.log,
        cache=world.cache,
        source=world.source,
        config=RegistryConfig(),
    )
    world.source.delay = 5.0
    started = time.monotonic()
    with pytest.raises(CredentialsNotFound) as raised:
        EcrHelper(ctx).get(HOST)
    assert time.monotonic() - started < 4.0  # the bound is 0.5 s; the source would take 5 s
    assert "no answer from AWS within 0.5 s" in raised.value.cause


def test_list_shows_cached_registries_and_primes_the_default_once(world: World) -> None:
    world.helper.get(WEST)
    world.helper.get(OTHER)  # under its own profile: another identity, not listed
    assert world.helper.list() == {f"https://{WEST}": "AWS"}  # no region set: nothing primed
    env = {**world.ctx.settings.env, "AWS_REGION": "eu-west-2"}
    ctx = Context(
        Settings(env),
        clock=world.clock,
        log=world.ctx.log,
        cache=world.cache,
        source=world.source,
        config=RegistryConfig(),
    )
    listed = EcrHelper(ctx).list()
    assert listed == {f"https://{WEST}": "AWS", f"https://{HOST}": "AWS"}
    assert EcrHelper(ctx).list() == listed  # the primed default is now a cache entry
    assert len(world.source.calls) == 3


def test_a_service_account_is_fetched_with_its_own_web_identity_after_a_node_fetch(
    world: World,
) -> None:
    # One helper serves the node and then a pod (a long-lived library caller, or the provider
    # after a miss): each fetch carries the identity it is for, never the first one's.
    from docker_credential_ecr_py._identity import service_account

    world.helper.get(HOST)
    pod = service_account("arn:aws:iam::111122223333:role/pull", "token-1", world.ctx.settings.env)
    entry = world.helper.entry(HOST, pod)
    assert world.source.web_identities == [None, ("arn:aws:iam::111122223333:role/pull", "token-1")]
    assert entry.password == "fresh-2"
    assert world.helper.get(HOST) == ("AWS", "fresh-1")  # the node's entry is its own
