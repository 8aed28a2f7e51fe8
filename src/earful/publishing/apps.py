from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "earful.publishing"
    label = "publishing"
