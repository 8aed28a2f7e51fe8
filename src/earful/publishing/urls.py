from django.urls import path

from earful.publishing import views

app_name = "publishing"
urlpatterns = [
    path("o/<slug:org>/publish/", views.composer, name="composer"),
    path("o/<slug:org>/publish/preview/", views.preview, name="preview"),
    path("o/<slug:org>/publish/gate/", views.gate, name="gate"),
    path("o/<slug:org>/publish/calendar/", views.calendar, name="calendar"),
    path("o/<slug:org>/publish/<str:post>/", views.post_page, name="post"),
    path("o/<slug:org>/publish/<str:post>/cancel/", views.cancel, name="cancel"),
    path("o/<slug:org>/publish/<str:post>/override/", views.override, name="override"),
    path("o/<slug:org>/publish/<str:post>/approve/", views.approve, name="approve"),
    path("o/<slug:org>/publish/<str:post>/send-back/", views.send_back, name="send_back"),
    path("o/<slug:org>/publish/<str:post>/media/", views.add_media, name="add_media"),
    path(
        "o/<slug:org>/publish/<str:post>/media/<str:media>/remove/",
        views.remove_media,
        name="remove_media",
    ),
]
