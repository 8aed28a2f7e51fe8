from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "earful.org"
    label = "org"
    verbose_name = "Organizations"
