"""Public endpoints of the push channels: the signed webhook and the feedback widget."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from earful.channels.connector import SettingsError, parse_settings
from earful.channels.models import Channel, ChannelKind
from earful.channels.normalize import http_url
from earful.channels.telegram.connector import SECRET_HEADER
from earful.channels.telegram.receiver import receive as receive_update
from earful.channels.webhook.connector import SIGNATURE_HEADER, TIMESTAMP_HEADER
from earful.channels.webhook.receiver import receive
from earful.channels.widget.connector import WidgetSettings
from earful.channels.widget.receiver import Submission, form_token
from earful.channels.widget.receiver import receive as receive_submission


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


@csrf_exempt  # Authenticated by the secret token Telegram sends, not by a browser session.
@require_POST
def telegram(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Receive one update from Telegram's webhook."""
    channel = get_object_or_404(Channel, code=code, kind=ChannelKind.TELEGRAM, enabled=True)
    outcome = receive_update(channel, request.body, request.headers.get(SECRET_HEADER, ""))
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def _widget(code: uuid.UUID) -> tuple[Channel, WidgetSettings]:
    channel = get_object_or_404(Channel, code=code, kind=ChannelKind.WIDGET, enabled=True)
    try:
        settings = parse_settings("widget", channel.settings)
    except SettingsError:
        settings = WidgetSettings()
    assert isinstance(settings, WidgetSettings)
    return channel, settings


@csrf_exempt  # Posted from other sites' pages; the signed form token stands in for CSRF.
@xframe_options_exempt  # Embedded by design; frame-ancestors below limits where.
@require_http_methods(["GET", "POST"])
def widget(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The hosted feedback form: GET shows it, POST stores what the customer wrote."""
    channel, settings = _widget(code)
    context: dict[str, object] = {
        "settings": settings,
        "action": request.path,
        "token": form_token(channel),
        "page": http_url(request.GET.get("page", ""))[:500],
        "form": {},
        "errors": {},
    }
    status = 200
    if request.method == "POST":
        form = Submission(
            text=request.POST.get("text", "")[:20_000],
            email=request.POST.get("email", "")[:300],
            name=request.POST.get("name", "")[:300],
            honeypot=request.POST.get("website", ""),
            token=request.POST.get("token", "")[:200],
            page=request.POST.get("page", "")[:500],
        )
        outcome = receive_submission(channel, form)
        status = outcome.status
        context.update(
            done=status == 200,
            message=outcome.message,
            errors=outcome.errors or {},
            form={"text": form.text, "email": form.email, "name": form.name},
            page=http_url(form.page),
        )
    response = render(request, "channels/widget.html", context, status=status)
    ancestors = " ".join(settings.embed_origins) or "*"
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


@require_GET
def widget_embed(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The script a site includes to show the form: it adds an iframe of the hosted page."""
    channel, settings = _widget(code)
    src = request.build_absolute_uri(reverse("channels:widget", args=[channel.code]))
    # json.dumps makes each value a safe JavaScript string literal.
    script = (
        "(function(){var s=document.currentScript;var f=document.createElement('iframe');"
        f"f.src={json.dumps(src)}+'?page='+encodeURIComponent(location.href);"
        f"f.title={json.dumps(settings.title)};"
        "f.style.cssText='width:100%;max-width:28rem;height:26rem;border:0';"
        "s.parentNode.insertBefore(f,s.nextSibling);})();\n"
    )
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
