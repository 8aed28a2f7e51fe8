from django.urls import path

from earful.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.home, name="home"),
    path("o/<slug:org>/messages/", views.messages, name="messages"),
]
