"""The Celery application; ``shared_task`` binds to it because the config package imports it."""

import os

from celery import Celery
from celery.signals import setup_logging, worker_process_init, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

app = Celery("insightstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**_kwargs: object) -> None:
    """Keep Celery from replacing the structlog configuration Django already set up."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_process_init.connect
def _after_fork(**_kwargs: object) -> None:
    from backend.core import lifecycle

    lifecycle.after_worker_fork()


@worker_shutdown.connect
def _on_shutdown(**_kwargs: object) -> None:
    from backend.core import lifecycle

    lifecycle.on_worker_shutdown()
