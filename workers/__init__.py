"""The worker side: the Celery tasks (tasks.py) and worker start-up (main.py)."""
