"""Photos on calls through the API, on SQLite and PostgreSQL: kept re-encoded without
their metadata, read back whole and as thumbnails, and every bad upload (not an image, a
decompression bomb, too large, over the quota) refused with nothing stored."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from PIL import Image

from hub.access.permissions import Role
from hub.config.file import load_hub_config
from hub.process.app import create_app
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

pytestmark = pytest.mark.asyncio

MAX_BYTES = 2 * 1024 * 1024
QUOTA = 1024 * 1024  # the least the configuration takes
MAX_PIXELS = 4_000_000
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubUnderTest]:
    settings: dict[str, Any] = hub_settings(database_url)
    settings["photos"] = {
        "directory": str(tmp_path / "photos"),
        "max_bytes": MAX_BYTES,
        "quota_bytes": QUOTA,
        "max_pixels": MAX_PIXELS,
    }
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def _photo_with_gps(kind: str, size: tuple[int, int] = (64, 32)) -> bytes:
    """A picture as a phone makes it: EXIF with the camera, a GPS position and an
    orientation (6: the phone was held upright, so the pixels lie on their side)."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 1.0)})
    out = io.BytesIO()
    image.save(out, format=kind, exif=exif.tobytes())
    return out.getvalue()


def _files(root: Path) -> set[str]:
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


async def _upload(
    client: httpx.AsyncClient, call_id: int, data: bytes, name: str = "defect.jpg"
) -> httpx.Response:
    return await client.post(
        f"/api/calls/{call_id}/photos", files={"file": (name, data, "image/jpeg")}
    )


KINDS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


async def test_a_photo_is_kept_upright_without_its_metadata_and_read_back(
    hub: HubUnderTest, tmp_path: Path
) -> None:
    call_id = hub.raise_call("st10", "quality")
    expected_files: set[str] = set()
    for kind, (content_type, suffix) in KINDS.items():
        row = await _check_one_kind(hub, call_id, kind, content_type)
        expected_files |= {
            f"{call_id}/{row['id']}.{suffix}",
            f"{call_id}/{row['id']}.thumb.{suffix}",
        }
    assert _files(tmp_path / "photos") == expected_files
    async with hub.client(Role.VIEWER) as viewer:
        listed = (await viewer.get(f"/api/calls/{call_id}/photos")).json()["photos"]
    assert [p["content_type"] for p in listed] == [c for c, _ in KINDS.values()]


async def _check_one_kind(
    hub: HubUnderTest, call_id: int, kind: str, content_type: str
) -> dict[str, Any]:
    sent = _photo_with_gps(kind)
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD)  # the test's own premise
    async with hub.client(Role.RESPONDER) as client:
        made = await _upload(client, call_id, sent)
        assert made.status_code == 201, made.text
        row: dict[str, Any] = made.json()
        assert set(row) == {"id", "content_type", "bytes", "created_at", "by"}
        assert row["content_type"] == content_type
        assert row["by"] == "responder-all"
        listed = (await client.get(f"/api/calls/{call_id}/photos")).json()["photos"]
        assert listed[-1] == row
        whole = await client.get(f"/api/calls/{call_id}/photos/{row['id']}")
        thumb = await client.get(
            f"/api/calls/{call_id}/photos/{row['id']}", params={"size": "thumb"}
        )
    assert whole.status_code == 200
    assert whole.headers["content-type"] == content_type
    assert len(whole.content) == row["bytes"]
    kept = Image.open(io.BytesIO(whole.content))
    assert kept.format == kind
    assert kept.size == (32, 64)  # turned upright: the orientation is applied, not kept
    assert dict(kept.getexif()) == {}
    for marker in (b"PhoneMaker", b"Exif"):
        assert marker not in whole.content
    # Upright, the blue half that was on the left is on top.
    rgb = kept.convert("RGB")
    top, bottom = rgb.getpixel((16, 8)), rgb.getpixel((16, 56))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert top[2] > top[0]
    assert bottom[0] > bottom[2]
    small = Image.open(io.BytesIO(thumb.content))
    assert small.format == kind
    assert max(small.size) <= 320
    return row


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces ``width`` x ``height`` one-bit pixels: a few dozen bytes that
    would decode to gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def _noise_png(side: int, seed: int) -> bytes:
    """A PNG that does not compress: random pixels."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, format="PNG")
    return out.getvalue()


async def test_bad_uploads_are_refused_as_problems_and_nothing_is_stored(
    hub: HubUnderTest, tmp_path: Path
) -> None:
    call_id = hub.raise_call("st10", "quality")
    root = tmp_path / "photos"
    cases: list[tuple[str, bytes, int, str]] = [
        ("not an image", b"%PDF-1.7 a drawing of the part", 415, "not a JPEG, PNG or WebP"),
        ("a GIF", b"GIF89a" + b"\x00" * 64, 415, "not a JPEG, PNG or WebP"),
        ("a truncated JPEG", _photo_with_gps("JPEG")[:300], 422, "cannot be decoded"),
        # 3000 x 3000 = 9 MP over the hub's 4 MP; 30000 x 30000 over Pillow's own bound.
        ("over max_pixels", _png_header_only(3000, 3000), 422, "3000x3000 pixels"),
        ("a decompression bomb", _png_header_only(30000, 30000), 422, "too many pixels"),
        ("too large", b"\xff\xd8" + b"\x00" * (MAX_BYTES + 1), 413, "photos.max_bytes"),
    ]
    async with hub.client(Role.RESPONDER) as client:
        for what, data, status, words in cases:
            refused = await _upload(client, call_id, data)
            assert refused.status_code == status, (what, refused.text)
            assert refused.headers["content-type"] == "application/problem+json", what
            problem = refused.json()
            assert problem["status"] == status
            assert words in problem["detail"], (what, problem)
        assert (await client.get(f"/api/calls/{call_id}/photos")).json() == {"photos": []}
    assert _files(root) == set()


async def test_an_upload_too_large_is_refused_while_it_arrives(hub: HubUnderTest) -> None:
    """Sent in chunks with no length announced, the upload is read only up to the limit:
    the hub never holds a gigabyte of it."""
    call_id = hub.raise_call("st10", "quality")
    chunk = b"\x00" * 65536
    sent = 0
    total_chunks = 16 * 1024  # a gigabyte, if anyone read it all

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
        for _ in range(total_chunks):
            sent += 1
            yield chunk

    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    async with hub.client(Role.RESPONDER) as client:
        refused = await client.post(f"/api/calls/{call_id}/photos", content=body(), headers=headers)
    assert refused.status_code == 413
    assert "photos.max_bytes" in refused.json()["detail"]
    # Read up to the limit and one chunk past it, then no more.
    assert sent * len(chunk) <= MAX_BYTES + 2 * len(chunk)


async def test_a_full_photo_store_refuses_the_next_photo_and_keeps_the_others(
    hub: HubUnderTest, tmp_path: Path
) -> None:
    call_id = hub.raise_call("st10", "quality")
    noise = _noise_png(250, 1)  # about 190 kB, and its thumbnail as large (250 < 320 px)
    async with hub.client(Role.STATION) as client:
        first = await _upload(client, call_id, noise, "a.png")
        assert first.status_code == 201, first.text
        photo_id = first.json()["id"]
        thumb = await client.get(
            f"/api/calls/{call_id}/photos/{photo_id}", params={"size": "thumb"}
        )
        each = first.json()["bytes"] + len(thumb.content)  # the same upload, the same size
        assert 2 * each <= QUOTA < 3 * each  # the test's premise: room for two, not three
        assert (await _upload(client, call_id, noise, "b.png")).status_code == 201
        full = await _upload(client, call_id, noise, "c.png")
        assert full.status_code == 507, full.text
        assert full.headers["content-type"] == "application/problem+json"
        assert f"{2 * each} of {QUOTA} bytes are used" in full.json()["detail"]
        listed = (await client.get(f"/api/calls/{call_id}/photos")).json()["photos"]
    assert len(listed) == 2
    files = list((tmp_path / "photos").rglob("*"))
    assert sum(p.stat().st_size for p in files if p.is_file()) == 2 * each


async def test_photos_keep_the_lines_of_their_call(hub: HubUnderTest) -> None:
    theirs = hub.raise_call("st10", "quality")
    async with hub.client(Role.ADMIN) as admin:
        made = await _upload(admin, theirs, _photo_with_gps("JPEG"))
        assert made.status_code == 201
        photo_id = made.json()["id"]
        missing = await admin.get(f"/api/calls/{theirs}/photos/{photo_id + 1}")
        assert missing.status_code == 404
        assert (await admin.get("/api/calls/999999/photos")).status_code == 404
    async with hub.client(Role.RESPONDER, "line2") as other_line:
        for response in (
            await other_line.get(f"/api/calls/{theirs}/photos"),
            await other_line.get(f"/api/calls/{theirs}/photos/{photo_id}"),
            await _upload(other_line, theirs, _photo_with_gps("JPEG")),
        ):
            assert response.status_code == 403, response.text
            assert "limited to lines line2" in response.json()["detail"]
    async with hub.client(Role.VIEWER) as viewer:
        refused = await _upload(viewer, theirs, _photo_with_gps("JPEG"))
        assert refused.status_code == 403
        assert "may not photograph" in refused.json()["detail"]
