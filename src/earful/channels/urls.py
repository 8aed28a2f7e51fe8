"""Routes of the push channels, mounted under /in/."""

from django.urls import path

from earful.channels import views

app_name = "channels"

urlpatterns = [
    path("webhook/<uuid:code>/", views.webhook, name="webhook"),
    path("telegram/<uuid:code>/", views.telegram, name="telegram"),
    path("widget/<uuid:code>/", views.widget, name="widget"),
    path("widget/<uuid:code>/embed.js", views.widget_embed, name="widget_embed"),
]
