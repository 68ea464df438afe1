"""Celeriac's worker: `celery -A worker worker` finds the app in `worker.celery`.

Kept import-light so user scripts can `from worker.script import params, log_metric` without
loading Celery.
"""
