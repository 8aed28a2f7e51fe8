"""The WSGI application the web server runs."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earful.settings")
application = get_wsgi_application()
