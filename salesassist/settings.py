"""Settings for SalesAssist Action Engine: one module, the environment decides (django-environ)."""
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's local settings (./dev writes one on first use); the real environment wins over it.
# The tests set ENV_FILE to nothing, so they never depend on a developer's file.
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

# --- Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off. For development set DEBUG=true (./dev does) or put both in .env."
    )

# --- Hosts ----------------------------------------------------------------------------------------
# PARENT_HOST may carry a port ("localhost:8000"). django-hosts matches host names without it and
# appends HOST_PORT when it reverses, so the same patterns work on any port (tests, live servers).
_parent = env("PARENT_HOST", default="localhost:8000")
PARENT_HOST, _, HOST_PORT = _parent.partition(":")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[PARENT_HOST, f".{PARENT_HOST}"])
ROOT_HOSTCONF = "salesassist.hosts"
DEFAULT_HOST = "default"
ROOT_URLCONF = "salesassist.urls.default"
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)

# --- HTTPS and security headers -------------------------------------------------------------------
# With DEBUG off every default is the secure one (`manage.py check --deploy` passes without any of these
# set); development (DEBUG on) serves plain HTTP. The tests keep DEBUG off but speak plain HTTP, so
# pyproject.toml turns only SECURE_SSL_REDIRECT off for them.
if "BEHIND_TLS_PROXY" in env.ENVIRON:
    raise ImproperlyConfigured(
        "BEHIND_TLS_PROXY is gone: set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https instead."
    )
# A TLS-terminating proxy (ingress, load balancer) tells the app that the client spoke HTTPS with this header
# and value, in Django's notation, e.g. HTTP_X_FORWARDED_PROTO,https. Set it only when the proxy always sets
# (or strips) that header, or any client can claim HTTPS. Unset: only a direct TLS connection counts.
_proxy_ssl_header = env.tuple("SECURE_PROXY_SSL_HEADER", default=())
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is a header and a value: HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = _proxy_ssl_header
# Plain HTTP is redirected to HTTPS, except the health checks (/healthz, /healthz/live, /healthz/ready) and
# the metrics: Kubernetes probes and Prometheus call the pod over plain HTTP, without the proxy's header.
# Behind a TLS proxy this needs SECURE_PROXY_SSL_HEADER, or every request looks like plain HTTP and is
# redirected again and again.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^metrics$"]
# HSTS (sent on HTTPS answers only): browsers then refuse plain HTTP to these hosts for that long. Preload
# lets the domain be submitted to the browsers' built-in list; turn it off before a domain that is not
# yet HTTPS everywhere (every subdomain included) can be submitted by anyone.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Content-Security-Policy (django-csp) on every answer of every host: scripts, styles and calls from this
# origin only, no inline script or style, no plugins, no <base>, forms post here, no framing (as
# X-Frame-Options: DENY). The action page adds the action engine API's origin to connect-src
# (action_engine/pages.py); the API docs pages add data: images and Redoc inline styles (salesassist/urls/api.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_hosts",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "django_q",
    "axes",
    "salesassist.core",
    "crm",
    "products",
    "action_engine",
    "workflows",
    "salesassist.demo",
]

MIDDLEWARE = [
    "salesassist.core.middleware.MetricsScrapeHostMiddleware",
    "django_hosts.middleware.HostsRequestMiddleware",
    "salesassist.core.middleware.RequestMetricsMiddleware",
    # Each request reads the configuration version once, whichever per-process caches it uses.
    "salesassist.core.config.ConfigVersionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_hosts.middleware.HostsResponseMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "salesassist.wsgi.application"
ASGI_APPLICATION = "salesassist.asgi.application"

# --- Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Seconds to wait for a new connection: an unreachable database fails a request (and /healthz/ready) in
    # that time rather than after the operating system's minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
else:
    # SQLite serves one developer's web server and worker: a transaction takes the write lock when it
    # begins (IMMEDIATE), so a second writer waits up to `timeout` seconds for it instead of failing at
    # once with "database is locked" when it reads first and writes later; WAL lets reads go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N / time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
# The wiring's own files (the landing page's style); the apps keep theirs in <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Hashed, compressed static files need `collectstatic` (the Dockerfile runs it); development and
# tests serve them straight from the apps.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- Cache (rate limits) --------------------------------------------------------------------------
# Rate limits hold across processes only in a shared cache: with more than one web process (gunicorn
# workers, pods) CACHE_URL must be redis://host:6379/<db>. The default counts per process (development).
# Django's own Redis backend, named here because django-environ would pick django-redis if installed.
_CACHE_URL = env.str("CACHE_URL", default="locmemcache://salesassist")
_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
_cache = env.cache_url_config(_CACHE_URL, backend=_REDIS_CACHE if _CACHE_URL.startswith("redis") else None)
# django-environ lower-cases a URL's ?key_prefix=… for this backend; Django reads KEY_PREFIX.
for _option in ("key_prefix", "timeout", "version"):
    if _option in _cache:
        _cache[_option.upper()] = _cache.pop(_option)
if _cache["BACKEND"] == _REDIS_CACHE:
    # A Redis that does not answer costs a request at most this many seconds (the limits then fail open).
    _timeout = env.float("CACHE_TIMEOUT_SECONDS", default=0.5)
    _cache["OPTIONS"] = {"socket_connect_timeout": _timeout, "socket_timeout": _timeout, **_cache.get("OPTIONS", {})}
CACHES = {"default": _cache}

# --- Email ----------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SalesAssist <no-reply@salesassist.local>")
# Seconds an SMTP connection may wait for the server (connect, each reply): a silent server never blocks a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)

# --- REST framework and OpenAPI -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.auth.IsCompanyMember"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["salesassist.core.parsers.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "salesassist.core.filters.StrictDjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "salesassist.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "salesassist.core.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Reverse proxies (ingress, load balancer) in front of the app: the client's address is taken that
    # many hops from the right of X-Forwarded-For. With 0 the header is ignored, as anyone can forge it.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SalesAssist Action Engine",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "salesassist.core.schema.document_page_past_the_end",
    ],
    # One component per choice set used under several field names (stage and previous_stage).
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "action_engine.choices.Stage",
        "ModuleKindEnum": "action_engine.choices.ModuleKind",
        "ContentKindEnum": "products.choices.ContentKind",
        "WorkflowKindEnum": "workflows.choices.WorkflowKind",
        "DeliveryStatusEnum": "workflows.choices.DeliveryStatus",
    },
}

# --- CORS (action pages call the public endpoints from other origins) -----------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/v1/public/.*$"
# Action pages send an Idempotency-Key so a double click records once; replays say so in a header.
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed"]

# --- The public flow (action pages, receivers) ----------------------------------------------------
# Links sent to leads carry a signed token that expires; a company can shorten or lengthen it with
# settings["link_ttl_days"].
ACTION_LINK_TTL_DAYS = env.int("ACTION_LINK_TTL_DAYS", default=30)
# The scheme of links built for people (share URLs): https wherever plain HTTP is redirected to it.
PUBLIC_URL_SCHEME = env("PUBLIC_URL_SCHEME", default="https" if SECURE_SSL_REDIRECT else "http")
# Per-IP and per-action limits of the unauthenticated endpoints, and of failed API-key authentications
# per IP (DRF rate syntax; counted in the cache, salesassist/core/throttling.py). An empty value: no limit.
PUBLIC_THROTTLE_RATES = {
    "public_ip": env("THROTTLE_PUBLIC_IP", default="300/min"),
    "public_action": env("THROTTLE_PUBLIC_ACTION", default="3000/min"),
    "receiver_ip": env("THROTTLE_RECEIVER_IP", default="600/min"),
    "receiver": env("THROTTLE_RECEIVER", default="3000/min"),
    # Calls to one signed receiver that fail its signature check; above it they are 429 and not kept.
    "receiver_signature_failures": env("THROTTLE_RECEIVER_SIGNATURE_FAILURES", default="60/min"),
    "api_key_failures": env("THROTTLE_API_KEY_FAILURES", default="20/min"),
}
# A request without an Idempotency-Key that repeats one recorded this many seconds ago (same action,
# lead, visitor, stage and message) is answered as that one, not recorded again: a double click or a
# client's retry after a lost answer. Longer would swallow a lead's real second identical submission.
# 0 turns it off.
ENGAGEMENT_DEDUPE_SECONDS = env.int("ENGAGEMENT_DEDUPE_SECONDS", default=10)
# Bodies above this are refused with 413 before they are parsed (Django's own limit for request.body).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
# A bulk lead import (POST api.crm/v1/leads/import) may be larger: its 10,000 rows at up to ~1.6 KB each.
LEAD_IMPORT_MAX_BYTES = env.int("LEAD_IMPORT_MAX_BYTES", default=16 * 1024 * 1024)
# Only the benchmark sets this: it adds an endpoint that does one INSERT, to compare against.
BENCH_BASELINE_ENDPOINT = env.bool("BENCH_BASELINE_ENDPOINT", default=False)

# --- django-q2 (the worker; Django ORM broker, or Redis with Q_BROKER_URL) -------------------------
# Unset: tasks wait in the database (django_q_ormq), nothing else to run. redis://host:6379/2: a Redis list
# instead, for many workers (no table polled by every one). Either way the Delivery rows are the record and
# the sweeper re-queues a delivery whose task was lost (a Redis list holds no lease: a worker killed after
# taking a task loses it, and a Redis without persistence loses its queue on restart). On PostgreSQL the
# database queue wakes the worker with NOTIFY when a task is queued (salesassist/core/qbroker.py): Q_POLL is
# then only the longest wait, should a notification be missed; elsewhere the worker looks every Q_POLL.
Q_BROKER_URL = env.str("Q_BROKER_URL", default="")
Q_CLUSTER = {
    "name": "salesassist",
    **(
        {"redis": Q_BROKER_URL}
        if Q_BROKER_URL
        else {"orm": "default", "broker_class": "salesassist.core.qbroker.NotifiedORM"}
    ),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=60),
    # retry must stay well above timeout, or a slow task runs twice (the ORM broker's lease; Redis has none).
    "retry": env.int("Q_RETRY", default=300),
    "max_attempts": 1,
    "poll": env.float("Q_POLL", default=0.5),
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "sync": env.bool("Q_SYNC", default=False),
}

# --- Workflows (fan-out of engagements to third parties) -----------------------------------------
# Seconds to wait before each automatic attempt (the first is the fan-out's own): Standard Webhooks'
# schedule. After the last one fails the delivery is dead; a manual replay is one more attempt.
WORKFLOW_RETRY_SCHEDULE = [
    float(seconds)
    for seconds in env.list(
        "WORKFLOW_RETRY_SCHEDULE", default=["0", "5", "300", "1800", "7200", "18000", "36000", "50400", "72000", "86400"]
    )
]
# Private, loopback, link-local and other internal targets are refused unless this is on (SSRF).
WORKFLOW_ALLOW_PRIVATE_TARGETS = env.bool("WORKFLOW_ALLOW_PRIVATE_TARGETS", default=DEBUG)
# A workflow whose every attempt failed for this long is paused and its company's staff are emailed.
WORKFLOW_PAUSE_AFTER_HOURS = env.float("WORKFLOW_PAUSE_AFTER_HOURS", default=5 * 24)
# How long a worker owns a delivery while it sends; above Q_TIMEOUT, so a running task never loses it.
WORKFLOW_LEASE_SECONDS = env.float("WORKFLOW_LEASE_SECONDS", default=90)
# The sweeper re-enqueues a due delivery whose task was queued this long ago and never ran (lost).
WORKFLOW_REQUEUE_AFTER_SECONDS = env.float("WORKFLOW_REQUEUE_AFTER_SECONDS", default=300)
# Deliveries per worker task (a task also takes other due deliveries up to this many), and parallel
# sends inside one task. A task may take at most 3 × concurrency, so that even if every send runs into
# the 15 s timeout it ends within Q_TIMEOUT (60 s).
WORKFLOW_TASK_BATCH = env.int("WORKFLOW_TASK_BATCH", default=48)
# A retry due within this many seconds is queued by a timer in the worker that made the attempt, so a
# 5 s step waits about 5 s rather than until the next sweep (django-q2 runs schedules about every 30 s).
# The sweeper stays the safety net if that worker dies first. 0 leaves every retry to the sweeper.
WORKFLOW_RETRY_TIMER_SECONDS = env.float("WORKFLOW_RETRY_TIMER_SECONDS", default=60)
WORKFLOW_SEND_CONCURRENCY = env.int("WORKFLOW_SEND_CONCURRENCY", default=16)

# --- Retention (crm/retention.py; per company in Company.settings, see README) -----------------------
# Days each kind of stored body is kept; 0 keeps it forever. A company's settings override each one.
RETENTION_ATTEMPT_BODY_DAYS = env.int("RETENTION_ATTEMPT_BODY_DAYS", default=30)
RETENTION_INBOUND_CALL_DAYS = env.int("RETENTION_INBOUND_CALL_DAYS", default=90)
RETENTION_MESSAGE_DAYS = env.int("RETENTION_MESSAGE_DAYS", default=0)
# Rows changed or deleted per transaction; and how long one scheduled run works (below Q_TIMEOUT: the
# next run, an hour later, carries on where it stopped).
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
RETENTION_TASK_SECONDS = env.float("RETENTION_TASK_SECONDS", default=40)
# The raw inbound call tables are partitioned by month on PostgreSQL (salesassist/core/partitions.py): a daily
# schedule creates the partitions of the coming months; retention drops a month whole once every company's
# setting has expired it, waiting at most the lock timeout for the table (a busy table waits for the next run).
PARTITION_MONTHS_AHEAD = env.int("PARTITION_MONTHS_AHEAD", default=3)
PARTITION_LOCK_TIMEOUT = env("PARTITION_LOCK_TIMEOUT", default="5s")

# --- Metrics (Prometheus; salesassist/core/metrics.py) ---------------------------------------------
# GET /metrics on the default host answers only with `Authorization: Bearer <METRICS_TOKEN>`. Unset, it is
# open in development (DEBUG on) and closed (403) otherwise: a deployment that forgot it shows nothing.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The worker (`manage.py worker`) serves its own metrics on this port (0: it serves none), with the same
# token. Web and worker processes share their values through PROMETHEUS_MULTIPROC_DIR (an environment
# variable, read by prometheus-client itself: a directory of its own per pod).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", default="0.0.0.0")
# On SIGTERM `manage.py worker` takes no new deliveries and gives its sends this long to end; the ones still
# running are then released (lease cleared, queued again) and it exits, within this plus 20 s at most. Keep
# the worker pod's terminationGracePeriodSeconds above that (deploy/k8s/worker.yaml).
WORKER_SHUTDOWN_GRACE_SECONDS = env.float("WORKER_SHUTDOWN_GRACE_SECONDS", default=20)

# --- Admin login lockout (django-axes; attempts are kept in the database, shown in admin) -----------
# A username is locked out from one address after this many failed logins, for the cool-off; each further
# failure meanwhile starts the cool-off again. Locking the pair, not the username alone, means an attacker
# cannot lock a real admin out from elsewhere; nor the address alone, which would lock a whole office out.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The address as the rate limits see it (X-Forwarded-For only behind NUM_PROXIES proxies).
AXES_CLIENT_IP_CALLABLE = "salesassist.core.throttling.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# --- Logging to stdout ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes announces its configuration at every start, on stdout, where commands print results.
        "axes.apps": {"level": "WARNING"},
    },
}

