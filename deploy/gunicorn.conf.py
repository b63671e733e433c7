"""gunicorn settings for the web pods; every value can be overridden from the environment."""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Metrics (salesassist/core/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, every worker writes its values
# there and a scrape, whichever worker answers it, adds them all up. The directory starts empty.
def on_starting(server):
    from salesassist.core.metrics_dir import multiproc_dir_reset

    multiproc_dir_reset()

