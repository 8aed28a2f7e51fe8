from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "earful.feedback"
    label = "feedback"
