# One image for the coordinator, the workers and Flower (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY coordinator ./coordinator
COPY worker ./worker
COPY optimizer ./optimizer
COPY configs ./configs
RUN pip install --no-cache-dir -e ".[flower]" && useradd --create-home --uid 1000 celeriac
USER celeriac
