"""Attaching media to a post and taking it off, each with its event."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from earful.org.events import record_event
from earful.org.models import Membership
from earful.publishing import media
from earful.publishing.models import Post, PostMedia
from earful.publishing.services import PublishError, check_open, may_compose


@transaction.atomic
def attach_media(
    member: Membership, post: Post, upload: UploadedFile[bytes], description: str
) -> PostMedia:
    """Store an image or video for the post after checking its type and size."""
    may_compose(member)
    check_open(post)
    if post.media.count() >= media.MAX_PER_POST:
        raise PublishError(f"a post may carry up to {media.MAX_PER_POST} attachments")
    stored = media.store(upload, post.organization_id)
    # Written after the file: a failed transaction leaves an orphan file, never a dead row.
    item = PostMedia.objects.create(
        organization=post.organization,
        post=post,
        path=stored.path,
        content_type=stored.content_type,
        size=stored.size,
        name=(upload.name or "")[:200],
        description=description[:1500],
    )
    record_event(
        post.organization,
        "post.media_added",
        actor=member.user,
        target=post,
        after={"media": str(item.code), "type": item.content_type, "size": item.size},
    )
    return item


@transaction.atomic
def remove_media(member: Membership, item: PostMedia) -> None:
    """Take an attachment off a post that has not gone out."""
    may_compose(member)
    check_open(item.post)
    path, code = item.path, str(item.code)
    item.delete()
    transaction.on_commit(lambda: media.remove(path))
    record_event(
        member.organization,
        "post.media_removed",
        actor=member.user,
        target=item.post,
        after={"media": code},
    )
