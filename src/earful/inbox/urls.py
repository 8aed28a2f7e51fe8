from django.urls import path

from earful.inbox import conversation_views as c
from earful.inbox import destination_views as d
from earful.inbox import review_views as r
from earful.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.home, name="home"),
    path("o/<slug:org>/messages/", views.messages, name="messages"),
    path("o/<slug:org>/inbox/", views.queue_page, name="queue"),
    path("o/<slug:org>/inbox/auto-assign/", c.auto_assign, name="auto_assign"),
    path("o/<slug:org>/inbox/availability/", c.availability, name="availability"),
    path("o/<slug:org>/c/<int:number>/", c.conversation, name="conversation"),
    path("o/<slug:org>/c/<int:number>/reply/", c.reply, name="reply"),
    path("o/<slug:org>/c/<int:number>/tone/", c.tone, name="tone"),
    path("o/<slug:org>/c/<int:number>/notes/", c.note, name="note"),
    path("o/<slug:org>/c/<int:number>/assign/", c.assign, name="assign"),
    path("o/<slug:org>/c/<int:number>/status/", c.status, name="status"),
    path("o/<slug:org>/c/<int:number>/hand-off/", c.hand_off, name="hand_off"),
    path("o/<slug:org>/c/<int:number>/playbook/", c.playbook, name="playbook"),
    path("o/<slug:org>/handoffs/<str:handoff>/fixed/", c.fixed, name="fixed"),
    path("o/<slug:org>/departments/", d.departments_page, name="departments"),
    path(
        "o/<slug:org>/departments/<slug:department>/destinations/",
        d.add_destination,
        name="add_destination",
    ),
    path(
        "o/<slug:org>/departments/<slug:department>/notifications/",
        d.department_notifications,
        name="department_notifications",
    ),
    path("o/<slug:org>/notifications/", d.my_notifications, name="my_notifications"),
    path(
        "o/<slug:org>/destinations/<str:destination>/check/",
        d.check_destination,
        name="check_destination",
    ),
    path(
        "o/<slug:org>/destinations/<str:destination>/remove/",
        d.remove_destination,
        name="remove_destination",
    ),
    path("o/<slug:org>/handoffs/<str:handoff>/report-back/", c.report_back, name="report_back"),
    path("o/<slug:org>/messages/<str:message>/correct/", c.correct, name="correct"),
    path("o/<slug:org>/reviews/", r.reviews_page, name="reviews"),
    path("o/<slug:org>/reviews/<str:draft>/approve/", r.approve, name="approve_draft"),
    path("o/<slug:org>/reviews/<str:draft>/send-back/", r.send_back, name="send_back_draft"),
    path("o/<slug:org>/reviews/<str:draft>/resubmit/", r.resubmit, name="resubmit_draft"),
    path("o/<slug:org>/team/", r.team_page, name="team"),
    path("o/<slug:org>/team/training/", r.training, name="training"),
]
