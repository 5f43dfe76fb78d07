# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EVIDENCE_ROOT=/data/evidence

WORKDIR /app

# Dependencies first (cached until pyproject.toml changes).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && SECRET_KEY=collectstatic-only DEBUG=0 DATABASE_URL=postgres://build@127.0.0.1:1/none \
       REDIS_URL=redis://127.0.0.1:1/0 python manage.py collectstatic --noinput

# Static files are collected into the image (read-only); var/ and the evidence volume are
# the only places the app writes to.
RUN useradd --system --create-home --uid 10001 --user-group tsconsole \
    && mkdir -p /data/evidence /app/var \
    && chown -R tsconsole:tsconsole /data /app/var
USER tsconsole

EXPOSE 8000
CMD ["gunicorn", "tsconsole.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
