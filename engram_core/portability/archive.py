"""Reading a zip upload safely: no path traversal, no zip bomb, no endless member list."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..errors import Invalid

__all__ = ["ZipLimits", "zip_members"]


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 10_000
    max_total_bytes: int = 512 * 1024 * 1024  # uncompressed, all members together
    max_ratio: int = 200  # uncompressed / compressed of one member


def zip_members(data: bytes, limits: ZipLimits) -> Iterator[tuple[str, bytes]]:
    """(name, content) of every file of the zip in name order; refuses the whole archive (400) on a
    member whose path leaves the archive, too many members, or a size or ratio past ``limits`` (checked
    on the declared sizes first, then on the bytes actually read: headers can lie)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Invalid("file", f"is not a readable zip: {exc}") from None
    if len(infos) > limits.max_members:
        raise Invalid("file", f"holds {len(infos)} files; at most {limits.max_members} are read")
    total = 0
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or info.filename[1:3] == ":\\":
            raise Invalid(info.filename, "is a path outside the archive (path traversal): the zip is refused")
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if total > limits.max_total_bytes or ratio > limits.max_ratio:
            raise Invalid(info.filename, "expands too much (a zip bomb?): the zip is refused")
    read = 0
    for info in sorted(infos, key=lambda i: i.filename):
        if info.filename.startswith(("__MACOSX/", ".")) or "/." in info.filename:
            continue  # resource forks and hidden files
        try:
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise Invalid(info.filename, f"cannot be read from the zip: {exc}") from None
        read += len(content)
        if len(content) > info.file_size or read > limits.max_total_bytes:
            raise Invalid(info.filename, "holds more than its header says (a zip bomb?): the zip is refused")
        yield info.filename, content
