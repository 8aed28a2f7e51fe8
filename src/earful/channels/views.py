"""Public endpoints of the push channels: the signed webhook and the feedback widget."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from earful.channels.models import Channel, ChannelKind
from earful.channels.webhook.connector import SIGNATURE_HEADER, TIMESTAMP_HEADER
from earful.channels.webhook.receiver import receive


@csrf_exempt  # Authenticated by the HMAC signature, not by a browser session.
@require_POST
def webhook(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Receive one signed delivery of messages."""
    channel = get_object_or_404(Channel, code=code, kind=ChannelKind.WEBHOOK, enabled=True)
    outcome = receive(
        channel,
        request.body,
        request.headers.get(SIGNATURE_HEADER, ""),
        request.headers.get(TIMESTAMP_HEADER, ""),
    )
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response
