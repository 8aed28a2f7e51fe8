"""Storing a post's attachments: the type is read from the bytes, never from the upload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from earful.errors import DomainError

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 40 * 1024 * 1024
MAX_PER_POST = 4
# (magic prefix, offset, content type, extension)
SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"WEBP", 8, "image/webp", "webp"),
    (b"ftyp", 4, "video/mp4", "mp4"),
)


class MediaError(DomainError):
    """An attachment earful refuses, with the reason."""


@dataclass(frozen=True)
class Stored:
    """An attachment written to disk."""

    path: str
    content_type: str
    size: int


def sniff(head: bytes) -> tuple[str, str] | None:
    """The content type and extension the first bytes prove, or None."""
    for magic, offset, content_type, extension in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return content_type, extension
    return None


def media_root() -> Path:
    """Where attachments live: EARFUL_HOME/media/posts/."""
    return Path(settings.EARFUL_HOME) / "media" / "posts"


def store(upload: UploadedFile[bytes], organization_id: int) -> Stored:
    """Check the upload's type and size and write it under a name of ours."""
    size = upload.size or 0
    head = upload.read(16)
    upload.seek(0)
    found = sniff(head)
    if found is None:
        raise MediaError("only JPEG, PNG, GIF, WebP images and MP4 videos can be attached")
    content_type, extension = found
    limit = MAX_VIDEO_BYTES if content_type.startswith("video/") else MAX_IMAGE_BYTES
    if size == 0 or size > limit:
        raise MediaError(f"{content_type} attachments may be up to {limit // (1024 * 1024)} MB")
    relative = Path("media") / "posts" / str(organization_id) / f"{uuid.uuid4().hex}.{extension}"
    target = Path(settings.EARFUL_HOME) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return Stored(str(relative), content_type, size)


def remove(path: str) -> None:
    """Delete a stored attachment (missing is fine: it is gone either way)."""
    (Path(settings.EARFUL_HOME) / path).unlink(missing_ok=True)
