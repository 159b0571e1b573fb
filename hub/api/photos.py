"""/api/calls/{id}/photos: photos of a call's fault, taken with a phone's camera.

An upload is checked before anything is kept: its size (refused while it arrives by
hub/api/gate.py, and here again), that it is a JPEG, PNG or WebP image, and its pixels
(a decompression bomb is refused from its header). What is kept is the image re-encoded,
without the metadata it came with (hub/photos/images.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse

from contract.bounds import Id32
from contract.wire import utc_now
from hub.access.permissions import Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import LiveConfigDep, PhotosDep, StoreDep
from hub.api.schemas import PhotoList, PhotoOut
from hub.calls.repository import CallNotFound, Store
from hub.photos.images import ImageRefused, clean_image
from hub.photos.repository import EXTENSIONS, Photo, PhotoMissing, QuotaFull

router = APIRouter(prefix="/api/calls", tags=["photos"])

NO_CALL: dict[int | str, dict[str, Any]] = {404: {"description": "no such call"}}
IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the image, or its thumbnail",
        "content": {content_type: {} for content_type in EXTENSIONS},
    },
    404: {"description": "no such call, or no such photo on it"},
}
UPLOAD: dict[int | str, dict[str, Any]] = {
    **NO_CALL,
    415: {"description": "the file is not a JPEG, PNG or WebP image"},
    422: {"description": "the image cannot be decoded, or has too many pixels"},
    507: {"description": "the photo store is full (photos.quota_bytes)"},
}


def _visible_call(store: Store, call_id: int, who: Principal) -> None:
    try:
        call = store.get_call(call_id)
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    who.check_line(call.line)


def _out(photo: Photo) -> PhotoOut:
    return PhotoOut.model_validate(photo, from_attributes=True)


@router.get("/{call_id}/photos", responses=NO_CALL)
def list_photos(
    store: StoreDep,
    photos: PhotosDep,
    call_id: Id32,
    who: Annotated[Principal, allowed(Permission.READ)],
) -> PhotoList:
    """The call's photos, oldest first."""
    _visible_call(store, call_id, who)
    return PhotoList(photos=[_out(photo) for photo in photos.of_call(call_id)])


@router.post("/{call_id}/photos", status_code=201, responses=UPLOAD)
def add_photo(
    store: StoreDep,
    photos: PhotosDep,
    config: LiveConfigDep,
    call_id: Id32,
    *,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP image")],
    who: Annotated[Principal, allowed(Permission.PHOTOGRAPH)],
) -> PhotoOut:
    """Attach a photo to the call: kept re-encoded, without its EXIF or GPS data."""
    _visible_call(store, call_id, who)
    settings = config.current.photos
    if file.size is not None and file.size > settings.max_bytes:
        raise HTTPException(
            413, f"the photo is larger than {settings.max_bytes} bytes (photos.max_bytes)"
        )
    try:
        image = clean_image(file.file, max_pixels=settings.max_pixels)
    except ImageRefused as exc:
        status = 415 if exc.not_an_image else 422
        raise HTTPException(status, str(exc)) from None
    try:
        photo = photos.add(call_id, image, by=who.name, now=utc_now())
    except QuotaFull as exc:
        raise HTTPException(507, str(exc)) from None
    return _out(photo)


@router.get("/{call_id}/photos/{photo_id}", response_class=FileResponse, responses=IMAGE)
def get_photo(
    store: StoreDep,
    photos: PhotosDep,
    call_id: Id32,
    photo_id: Id32,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    size: Annotated[Literal["full", "thumb"], Query(description="thumb: 320 px")] = "full",
) -> FileResponse:
    """The stored image (``?size=thumb``: its thumbnail)."""
    _visible_call(store, call_id, who)
    try:
        photo, path = photos.file(call_id, photo_id, thumb=size == "thumb")
    except PhotoMissing as exc:
        raise HTTPException(404, str(exc)) from None
    # Kept by the browser but no proxy (the token decided who may see it); a photo
    # never changes once stored.
    headers = {"Cache-Control": "private, max-age=86400, immutable"}
    return FileResponse(path, media_type=photo.content_type, headers=headers)
