"""Fetching an organization's posts and attachments: 404 for missing and forbidden alike."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.org.models import Organization
from earful.publishing.models import Post, PostMedia


def access_post(organization: Organization, code: str) -> Post:
    """The organization's post with that code."""
    return get_object_or_404(
        Post.objects.select_related("organization", "author", "override_by"),
        organization=organization,
        code=parse_code(code),
    )


def access_media(post: Post, code: str) -> PostMedia:
    """The post's attachment with that code."""
    return get_object_or_404(
        PostMedia.objects.select_related("post__organization"),
        organization_id=post.organization_id,
        post=post,
        code=parse_code(code),
    )
