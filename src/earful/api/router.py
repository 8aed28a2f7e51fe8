"""The REST API (OpenAPI at /api/v1/docs): thin routes over the same services as the pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from earful.api import conversations, customers, destinations, inbox, inbox_settings, messages
from earful.api import reviews as reviews_api
from earful.channels.api import router as channels_router
from earful.errors import DomainError
from earful.feedback.api import router as feedback_router
from earful.insights.api import router as insights_router
from earful.publishing.api import router as publishing_router

api = NinjaAPI(title="earful API", version="1", auth=django_auth, urls_namespace="api")
api.add_router("", messages.router)
api.add_router("", conversations.router)
api.add_router("", customers.router)
api.add_router("", channels_router)
api.add_router("", inbox.router)
api.add_router("", inbox_settings.router)
api.add_router("", destinations.router)
api.add_router("", feedback_router)
api.add_router("", insights_router)
api.add_router("", publishing_router)
reviews_api.install(api)


@api.exception_handler(DomainError)
def refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A request a service refused: 400 with the reason."""
    return api.create_response(request, {"detail": str(exc)}, status=400)
