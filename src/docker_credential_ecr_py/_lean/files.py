"""Writing private files without ``tempfile``, ``shutil`` or ``pathlib``: the one atomic writer.

Every file the helper writes (``cache.json``, the parsed config copy, failure markers, Docker's
``config.json`` for ``configure-docker``) goes through ``write_atomic``: a temporary file in the
same directory (``.<name>.<pid>.<ns>.tmp``, created exclusively, never through a symlink), its
mode set whatever the umask, optionally fsync'ed, then renamed over the target. A reader sees the
old file or the new one, never a torn one.
"""

import os
import time

from docker_credential_ecr_py._lean import O_CLOEXEC, O_NOFOLLOW

TEMP_SUFFIX = ".tmp"


def makedirs_private(path: str) -> None:
    """Create ``path`` and any missing parents, each 0700 whatever the umask."""
    missing = []
    current = path
    while current and not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue
        os.chmod(directory, 0o700)


def temp_prefix(path: str) -> str:
    """The name prefix of ``write_atomic``'s temporary files for ``path`` (for cleanup)."""
    return "." + os.path.basename(path) + "."


def write_atomic(
    path: str,
    data: bytes,
    mode: int = 0o600,
    *,
    durable: bool = True,
    owner: "tuple[int, int] | None" = None,
    dir_fd: "int | None" = None,
) -> None:
    """Replace ``path`` with ``data`` atomically; ``OSError`` on failure (nothing half-written).

    ``durable``: fsync the file before the rename and the directory after it (the cache and
    ``config.json``; markers and the parsed config copy can be rebuilt and skip it). ``owner``:
    ``(uid, gid)`` given to the new file when running as root (an edited file keeps its owner).
    ``dir_fd``: ``path`` is a name in that open directory (the cache's), so a directory swapped
    under the same path after it was checked is never written into.
    """
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(
        directory, f"{temp_prefix(path)}{os.getpid()}.{time.monotonic_ns()}{TEMP_SUFFIX}"
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
    fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
    try:
        try:
            os.fchmod(fd, mode)  # the umask narrowed the mode given to open
            if owner is not None and os.geteuid() == 0:
                try:
                    os.fchown(fd, *owner)
                except OSError:
                    pass
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    if durable:
        try:
            if dir_fd is not None:
                os.fsync(dir_fd)
            else:
                opened = os.open(directory, os.O_RDONLY | O_CLOEXEC)
                try:
                    os.fsync(opened)
                finally:
                    os.close(opened)
        except OSError:
            pass  # the rename is done; a directory fsync is best effort


def remove_stale_temp_files(
    path: str, older_than: float = 60.0, *, dir_fd: "int | None" = None
) -> None:
    """Temporary files of writers of ``path`` killed mid-write (best effort); ``dir_fd`` as for
    ``write_atomic``."""
    directory = os.path.dirname(path) or "."
    prefix = temp_prefix(path)
    cutoff = time.time() - older_than
    try:
        names = os.listdir(directory if dir_fd is None else dir_fd)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
            stale = name if dir_fd is not None else os.path.join(directory, name)
            try:
                if os.stat(stale, dir_fd=dir_fd, follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(stale, dir_fd=dir_fd)
            except OSError:
                pass


def lock(path: str, deadline: float, *, dir_fd: "int | None" = None) -> "int | None":
    """An exclusive ``flock`` on ``path`` (created 0600, never through a symlink), waiting until
    ``deadline`` (``time.monotonic()``): its descriptor, ``None`` when it could not be had in
    time, ``OSError`` when the file cannot be opened or locked. Closing the descriptor unlocks.

    The lock held is always on the file at ``path`` now: a waiter that is granted the lock of a
    file unlinked or replaced meanwhile (pruned, or removed by its last holder) opens the path
    again, so two holders never hold two different files of one name.
    """
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC
    delay = 0.002
    while True:
        fd = os.open(path, flags, 0o600, dir_fd=dir_fd)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    os.close(fd)
                    return None
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.05)
            held = os.fstat(fd)
            try:
                now = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
                if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                    return fd
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # that file is gone from the path: lock the one there now
