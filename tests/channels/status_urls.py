"""The site's URLs plus the channel status page, as they are once it is mounted."""

from django.urls import include, path

from earful.urls import urlpatterns as site

urlpatterns = [path("", include("earful.channels.page_urls")), *site]
