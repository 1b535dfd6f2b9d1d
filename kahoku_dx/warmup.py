"""Warm a fresh server process before it takes its first request.

A gunicorn worker imports the WSGI application when it starts, again after every
``max_requests`` (deploy/gunicorn.conf.py recycles workers every ~2,000 requests) and after
every deploy. Django loads the rest lazily, on the first request that needs it: the URLconf
(which imports every view module, DRF and drf-spectacular), the templates' compiled form
and the translation catalogues. Measured on the city's kind of machine, that made the first
request of each worker take ~460 ms instead of ~45 ms: at the start of a day's work, one
in every few staff members waited half a second for the login page.

``warm()`` does that work while the worker starts, before it accepts a connection. It
reads no database (a worker must start while PostgreSQL is still coming up) and never
stops the start: a failure is logged and the request that needs the piece loads it as
before.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import get_resolver, reverse
from django.utils import translation

logger = logging.getLogger("kahoku_dx.warmup")

# The templates every signed-in page or the login page renders (their includes and parents
# compile with them).
TEMPLATES = (
    "base.html",
    "registration/login.html",
    "home.html",
    "initiatives/initiative_list.html",
    "initiatives/initiative_detail.html",
    "initiatives/progress_form.html",
    "reporting/dashboard.html",
)


def warm() -> float:
    """Import the URLconf, compile the common templates and load the catalogues; returns
    the seconds it took."""
    started = time.perf_counter()
    try:
        len(get_resolver().url_patterns)  # imports kahoku_dx.urls and with it every view
        reverse("home")  # builds the reverse lookup table the first {% url %} needs
        for name in TEMPLATES:
            try:
                get_template(name)
            except TemplateDoesNotExist:
                logger.warning("warm-up: no template %s", name)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("ログイン")  # loads the catalogue of the language
    except Exception:  # never keep a worker from starting: the first request loads it
        logger.exception("warm-up failed; the first requests load what it would have")
    return time.perf_counter() - started
