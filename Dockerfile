# One image for every process: the API hosts (gunicorn), the django-q2 worker, and migrations.
# deploy/image_recipe.py runs this file's pip and manage.py steps in a fresh virtualenv (CI, no container
# engine needed); tests/deploy lints it with hadolint.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic and the deployment checks need settings but no real secret or database: this key signs
# nothing (it only has to look like a real one to `check --deploy`), the SQLite file is never opened. The
# build fails if the production defaults raise any warning.
RUN SECRET_KEY=image-build-only-this-key-signs-nothing-and-is-never-used-at-runtime \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --no-input \
 && SECRET_KEY=image-build-only-this-key-signs-nothing-and-is-never-used-at-runtime \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py check --deploy --fail-level WARNING

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin salesassist \
 && mkdir -p /app/media && chown -R salesassist /app/media

# By number: Kubernetes' runAsNonRoot can verify a numeric user only (deploy/k8s: runAsUser 10001).
USER 10001
EXPOSE 8000
# The worker runs `python manage.py worker` (qcluster + its metrics port); migrations `python manage.py migrate` (deploy/).
CMD ["gunicorn", "salesassist.wsgi", "--config", "deploy/gunicorn.conf.py"]
