from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "earful.insights"
    label = "insights"
