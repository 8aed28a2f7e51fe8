from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "earful.channels"
    label = "channels"
