from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "earful.conversations"
    label = "conversations"
