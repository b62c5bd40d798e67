# The gateway image: the locked dependencies, then the code, run as an unprivileged user.
# Production configuration comes only from FLOWGATE_* variables (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN python -m pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY alembic.ini ./
COPY flowgate ./flowgate
COPY models ./models
COPY resolvers ./resolvers
COPY schema ./schema
COPY migrations ./migrations
RUN uv sync --frozen --no-dev

RUN useradd --system --create-home --home-dir /home/flowgate flowgate
USER flowgate
ENV PATH="/app/.venv/bin:${PATH}"

EXPOSE 8000

# Migrate, then serve; `exec` makes the server PID 1's direct replacement, so `docker stop`
# (SIGTERM) reaches it and shuts it down cleanly.
CMD ["sh", "-c", "flowgate migrate && exec flowgate serve --host 0.0.0.0"]
