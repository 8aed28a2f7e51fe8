from django.urls import path

from earful.insights import views

app_name = "insights"
urlpatterns = [
    path("insights/plotly.min.js", views.plotly_js, name="plotly"),
    path("o/<slug:org>/insights/", views.dashboard, name="dashboard"),
    path("o/<slug:org>/insights/scorecard/", views.scorecard, name="scorecard"),
    path("o/<slug:org>/insights/alerts/", views.alerts, name="alerts"),
    path("o/<slug:org>/insights/thresholds/", views.thresholds, name="thresholds"),
    path("o/<slug:org>/insights/webhooks/", views.add_webhook, name="add_webhook"),
    path(
        "o/<slug:org>/insights/webhooks/<str:endpoint>/remove/",
        views.remove_webhook,
        name="remove_webhook",
    ),
    path("o/<slug:org>/insights/<slug:table>.csv", views.export, name="export"),
]
