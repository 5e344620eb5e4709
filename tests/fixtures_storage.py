"""A real small filesystem for storage-full tests: a tmpfs of a few MiB mounted in tmp_path (root only),
and a filler that eats its free space down to a given level or to the last byte."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

CHUNK = 64 * 1024


class SmallDisk:
    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler.bin"

    def free(self) -> int:
        st = os.statvfs(self.mount)
        return st.f_bavail * st.f_frsize

    def fill_to(self, free_bytes: int) -> None:
        """Grow the filler until at most `free_bytes` are left (at least one chunk less than now)."""
        with open(self.filler, "ab") as f:
            while self.free() > free_bytes:
                f.write(b"\0" * min(CHUNK, max(4096, self.free() - free_bytes)))
                f.flush()

    def fill_up(self) -> None:
        """To the last byte: the next write anywhere on this filesystem gets ENOSPC."""
        with open(self.filler, "ab", buffering=0) as f:
            for size in (CHUNK, 4096, 512, 1):
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise

    def clear(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 16 MiB tmpfs at tmp_path/disk, unmounted at teardown."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
