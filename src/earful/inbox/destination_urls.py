"""The public route departments' trackers and chats call back on, mounted under /hooks/."""

from django.urls import path

from earful.inbox import destination_views

app_name = "hooks"

urlpatterns = [
    path(
        "destinations/<uuid:code>/",
        destination_views.destination_webhook,
        name="destination",
    ),
]
