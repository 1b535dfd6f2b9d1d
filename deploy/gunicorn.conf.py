"""gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py kahoku_dx.wsgi`.

Every value can be overridden from the environment (GUNICORN_BIND, WEB_CONCURRENCY, ...),
so one file serves the systemd unit, the load test and a manual start.
"""

import multiprocessing
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

wsgi_app = "kahoku_dx.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the portal is CPU- and database-bound with short requests.
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * multiprocessing.cpu_count() + 1, 9))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # Excel imports of a whole plan
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Only the reverse proxy on this host may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Django writes one JSON access line per request (kahoku_dx.middleware); gunicorn's
# own access log would only repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl):
# two instances on one host would take it from each other. systemd signals do the same
# job; give GUNICORN_CONTROL_SOCKET a per-instance path to use `gunicornc`.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# Limit header sizes; the body limit is MAX_UPLOAD_BYTES in Django.
limit_request_line = 8190
limit_request_fields = 100


# No `Server: gunicorn` header (it names the software to anyone who asks). gunicorn has no
# setting for it, and setting gunicorn.SERVER here comes too late (gunicorn.http.wsgi has
# imported the name) and would still send an empty `Server:`: drop the line from the head
# gunicorn writes. This file runs in the master before the workers are forked, so every
# worker has it; tests/security/test_server_header.py checks it on a real gunicorn.
def _without_server_header(default_headers):
    def headers(self):
        return [h for h in default_headers(self) if not h.lower().startswith("server:")]

    headers._kahoku_dx = True
    return headers


if not getattr(_gunicorn_wsgi.Response.default_headers, "_kahoku_dx", False):  # re-read on HUP
    _gunicorn_wsgi.Response.default_headers = _without_server_header(
        _gunicorn_wsgi.Response.default_headers
    )

# gunicorn's own messages (worker boot, timeouts) as JSON lines too, like the app's.
if (
    os.environ.get(
        "LOG_FORMAT", "json" if os.environ.get("DJANGO_ENV") == "production" else "plain"
    )
    == "json"
):
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "kahoku_dx.logging.JsonFormatter"}},
        "handlers": {
            "json_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        # gunicorn merges this over its defaults key by key: root and both of its loggers
        # must name a handler defined here.
        "root": {"handlers": ["json_console"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["json_console"], "level": "INFO", "propagate": False},
            # Django writes the access line (with request id and user); no second one.
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
