"""One contract, every ``TokenCache``: ``FileCache`` keeps what it is given, ``NullCache`` keeps
nothing, and both answer every call of the protocol the policy relies on (no caller ever needs to
ask which one it has)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._interfaces import TokenCache
from docker_credential_ecr_py._log import Log

TOKEN = base64.b64encode(b"AWS:contract").decode()


def entry(lifetime: float = 3600.0) -> _cache.Entry:
    now = time.time()
    return _cache.Entry(TOKEN, now, now + lifetime, "https://x", "ecr")


class TokenCacheContract:
    """The cases; subclasses provide ``cache`` and say whether it keeps entries."""

    keeps: bool

    @pytest.fixture
    def cache(self, tmp_path: Path) -> TokenCache:
        raise NotImplementedError

    def test_lookup_of_nothing_is_a_miss(self, cache: TokenCache) -> None:
        assert cache.lookup(["k1", "k2"]) is None

    def test_store_then_lookup(self, cache: TokenCache) -> None:
        cache.store("k1", entry())
        hit = cache.lookup(["k0", "k1"])
        if self.keeps:
            assert hit is not None and hit[0] == "k1" and hit[1].password == "contract"
            assert set(cache.registries()) == {"k1"}
        else:
            assert hit is None and cache.registries() == {}

    def test_prune_drops_expired_entries_only(self, cache: TokenCache) -> None:
        cache.store("live", entry())
        cache.store("dead", entry(lifetime=-1.0))
        cache.prune()
        assert set(cache.registries()) == ({"live"} if self.keeps else set())

    def test_clear_drops_everything(self, cache: TokenCache) -> None:
        cache.store("k1", entry())
        cache.clear()
        assert cache.registries() == {}

    def test_fetch_lock_is_held_and_released(self, cache: TokenCache) -> None:
        with cache.fetch_lock("k1", 1.0) as lock:
            assert lock.acquired
        with cache.fetch_lock("k1", 1.0) as again:  # released: taken again at once
            assert again.acquired

    def test_failure_marker_round_trip(self, cache: TokenCache) -> None:
        cache.mark_failure("k1", "AccessDenied: no")
        seen = cache.recent_failure("k1")
        if self.keeps:
            assert seen is not None
            assert seen[0] == "AccessDenied: no"
            assert 0 < seen[1] <= 5.0  # seconds until the marker stops counting
        else:
            assert seen is None
        assert cache.recent_failure("k2") is None
        cache.clear_failure("k1")
        assert cache.recent_failure("k1") is None

    def test_persistent_says_whether_anything_is_kept(self, cache: TokenCache) -> None:
        assert cache.persistent is self.keeps
        assert bool(cache.path) is self.keeps and bool(cache.directory) is self.keeps


class TestFileCache(TokenCacheContract):
    keeps = True

    @pytest.fixture
    def cache(self, tmp_path: Path) -> TokenCache:
        directory = tmp_path / "ecr"
        directory.mkdir(mode=0o700)
        return _cache.FileCache(str(directory), Log(""))

    def test_a_held_lock_makes_a_second_taker_wait_and_give_up(self, cache: TokenCache) -> None:
        with cache.fetch_lock("k1", 1.0):
            started = time.monotonic()
            with cache.fetch_lock("k1", 0.2) as second:
                assert not second.acquired
            assert time.monotonic() - started >= 0.2


class TestNullCache(TokenCacheContract):
    keeps = False

    @pytest.fixture
    def cache(self, tmp_path: Path) -> TokenCache:
        return _cache.NullCache()
