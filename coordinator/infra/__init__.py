"""Infrastructure: where Redis is, the embedded server, TLS, Celery settings, timing."""
