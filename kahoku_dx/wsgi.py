import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")
application = get_wsgi_application()

# Each server process loads the URLconf, the common templates and the catalogues while it
# starts, not on its first visitor's request (kahoku_dx/warmup.py).
from kahoku_dx.warmup import warm  # noqa: E402

warm()
