"""URL routes: sign-in, inbox, channel, board and insight pages, customers writing in, the API."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from earful.api.router import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("in/", include("earful.channels.urls")),
    path("hooks/", include("earful.inbox.destination_urls")),
    path("", include("earful.channels.page_urls")),
    path("", include("earful.inbox.urls")),
    path("", include("earful.feedback.urls")),
    path("", include("earful.insights.urls")),
    path("", include("earful.publishing.urls")),
]
