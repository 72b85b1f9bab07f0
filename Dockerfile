FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lapor lapor
COPY agencies agencies
COPY complaints complaints
COPY awards awards
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home lapor && mkdir -p /app/var && chown -R lapor /app/var
USER lapor
EXPOSE 8000
CMD ["bin/start-web"]
