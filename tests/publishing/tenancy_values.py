"""Publishing objects for the tenancy walk: a value for each URL parameter its routes add."""

from __future__ import annotations

from typing import Any

PARAMETERS: frozenset[str] = frozenset({"post", "media"})
# A one-pixel PNG, so that the attachment is a real image.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_values(organization: Any, owner: Any) -> dict[str, str]:
    """Values for PARAMETERS, made in the organization of the walk."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from earful.org.models import Membership
    from earful.publishing.attachments import attach_media
    from earful.publishing.services import save_draft

    member = Membership.objects.select_related("organization", "user").get(
        organization=organization, user=owner
    )
    post = save_draft(member, "Hello from the walk", [])
    image = SimpleUploadedFile("dot.png", PIXEL, content_type="image/png")
    item = attach_media(member, post, image, "a dot")
    return {"post": str(post.code), "media": str(item.code)}
