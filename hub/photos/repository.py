"""Photos kept: a row each in ``call_photos``, the image and its thumbnail as files under
the photo directory (``<directory>/<call id>/<photo id>.<ext>`` and ``...thumb.<ext>``).

A photo is written in one transaction: the quota is checked, the row inserted, both
files written (to a temporary name, then renamed), and only then committed; a failure
on the way removes what was written, so a row never points at a missing file and a
file is never left without a row.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from hub.db.tables import call_photos
from hub.db.transactions import Database
from hub.photos.images import CleanImage

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class QuotaFull(Exception):
    """Keeping this photo would pass the photo quota; the message says by how much."""


class PhotoMissing(Exception):
    """No such photo on that call, or its file is gone."""


@dataclass(frozen=True)
class Photo:
    id: int
    call_id: int
    content_type: str
    bytes: int
    created_at: datetime
    by: str


@dataclass(frozen=True)
class PhotoPlace:
    """Where the photos are kept, and how much they may take (read at each upload, so a
    reload of the hub's file reaches it)."""

    directory: Path
    quota_bytes: int


class Photos:
    """The photos of every call."""

    def __init__(self, db: Database, *, place: Callable[[], PhotoPlace]) -> None:
        self.db = db
        self.place = place
        # One upload at a time checks the quota and writes: two at once would each see
        # the room the other is about to take.
        self._writing = threading.Lock()

    def add(self, call_id: int, image: CleanImage, *, by: str, now: datetime) -> Photo:
        """Keep ``image`` on call ``call_id``; raises QuotaFull."""
        place = self.place()
        size = len(image.data) + len(image.thumb)
        paths: tuple[Path, Path] | None = None
        try:
            with self._writing, self.db.write() as conn:
                used = conn.execute(select(_USED)).scalar_one()
                if used + size > place.quota_bytes:
                    raise QuotaFull(
                        f"the photo store is full: {used} of {place.quota_bytes} bytes are "
                        f"used and this photo needs {size} (photos.quota_bytes)"
                    )
                photo_id = conn.execute(
                    insert(call_photos)
                    .values(
                        call_id=call_id,
                        content_type=image.content_type,
                        bytes=len(image.data),
                        thumb_bytes=len(image.thumb),
                        width=image.width,
                        height=image.height,
                        created_at=now,
                        by=by,
                    )
                    .returning(call_photos.c.id)
                ).scalar_one()
                paths = _paths(place.directory, call_id, photo_id, image.content_type)
                _write(paths[0], image.data)
                _write(paths[1], image.thumb)
        except BaseException:
            if paths is not None:  # written, but the row was not committed
                _remove(*paths)
            raise
        return Photo(photo_id, call_id, image.content_type, len(image.data), now, by)

    def of_call(self, call_id: int) -> list[Photo]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_PHOTO_COLUMNS)
                .where(call_photos.c.call_id == call_id)
                .order_by(call_photos.c.id)
            ).all()
        return [Photo(*row) for row in rows]

    def file(self, call_id: int, photo_id: int, *, thumb: bool) -> tuple[Photo, Path]:
        """The photo's row and the path of its image (or thumbnail); raises PhotoMissing."""
        with self.db.read() as conn:
            row = conn.execute(
                select(*_PHOTO_COLUMNS).where(
                    call_photos.c.id == photo_id, call_photos.c.call_id == call_id
                )
            ).first()
        if row is None:
            raise PhotoMissing(f"no photo {photo_id} on call {call_id}")
        photo = Photo(*row)
        image, thumbnail = _paths(self.place().directory, call_id, photo_id, photo.content_type)
        path = thumbnail if thumb else image
        if not path.is_file():
            raise PhotoMissing(f"the file of photo {photo_id} is missing from the photo store")
        return photo, path


_USED = func.coalesce(func.sum(call_photos.c.bytes + call_photos.c.thumb_bytes), 0)
_PHOTO_COLUMNS = (
    call_photos.c.id,
    call_photos.c.call_id,
    call_photos.c.content_type,
    call_photos.c.bytes,
    call_photos.c.created_at,
    call_photos.c.by,
)


def _paths(directory: Path, call_id: int, photo_id: int, content_type: str) -> tuple[Path, Path]:
    extension = EXTENSIONS[content_type]
    folder = directory / str(call_id)
    return folder / f"{photo_id}.{extension}", folder / f"{photo_id}.thumb.{extension}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            path.with_name(f".{path.name}.partial").unlink()
