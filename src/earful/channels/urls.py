"""Routes of the push channels, mounted under /in/."""

from django.urls import path

from earful.channels import views

app_name = "channels"

urlpatterns = [
    path("webhook/<uuid:code>/", views.webhook, name="webhook"),
]
