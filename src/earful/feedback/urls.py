"""Routes of the board: public pages under /b/<board>/, staff pages under /o/<org>/feedback/."""

from django.urls import URLPattern, path

from earful.feedback import board_views as b
from earful.feedback import staff_views as s

app_name = "feedback"
urlpatterns: list[URLPattern] = [
    path("b/<slug:board>/", b.board_page, name="board"),
    path("b/<slug:board>/similar/", b.similar, name="similar"),
    path("b/<slug:board>/ideas/<int:idea>/", b.idea_page, name="public_idea"),
    path("b/<slug:board>/ideas/<int:idea>/vote/", b.vote, name="vote"),
    path("b/<slug:board>/ideas/<int:idea>/comment/", b.comment, name="comment"),
    path("b/<slug:board>/answer/<str:token>/", b.answer, name="answer"),
    path("b/<slug:board>/unsubscribe/<str:token>/", b.unsubscribe, name="unsubscribe"),
    path("o/<slug:org>/feedback/", s.ideas, name="staff_ideas"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/", s.idea, name="staff_idea"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/status/", s.status, name="status"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/merge/", s.merge, name="merge"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/notes/", s.note, name="note"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/moderate/", s.moderate, name="moderate"),
    path("o/<slug:org>/feedback/ideas/<int:idea>/block/", s.block, name="block"),
    path(
        "o/<slug:org>/feedback/comments/<str:comment>/moderate/",
        s.moderate_comment,
        name="moderate_comment",
    ),
    path("o/<slug:org>/feedback/suggestions/", s.suggestions, name="suggestions"),
    path("o/<slug:org>/feedback/suggestions/<str:message>/link/", s.link, name="link"),
    path("o/<slug:org>/feedback/settings/", s.board_settings, name="settings"),
    path("o/<slug:org>/feedback/requests/", s.feedback_requests, name="requests"),
]
