# One image for every process: the API hosts (gunicorn), the django-q2 worker, and migrations.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no real secret or database.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --no-input \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin salesassist \
 && mkdir -p /app/media && chown -R salesassist /app/media

USER salesassist
EXPOSE 8000
# The worker runs `python manage.py worker` (qcluster + its metrics port); migrations `python manage.py migrate` (deploy/).
CMD ["gunicorn", "salesassist.wsgi", "--config", "deploy/gunicorn.conf.py"]
