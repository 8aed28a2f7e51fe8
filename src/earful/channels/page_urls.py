"""The channel status page, to be mounted at the site root next to the inbox pages."""

from django.urls import path

from earful.channels import pages

app_name = "channel_pages"

urlpatterns = [
    path("o/<slug:org>/channels/", pages.channels_page, name="status"),
]
