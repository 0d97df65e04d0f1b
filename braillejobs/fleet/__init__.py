"""Operating the fleet from outside the workers.

``control``: Celery remote control over the broker (list, ping, pause, resume, drain, shutdown,
scale) and the queues read from Redis; ``deadletters``: the list of messages workers refused;
``queue_depth``: the documents that a queue's messages carry; ``exporter``: the fleet's metrics
for Prometheus, and ``status_page``: the page it serves for people. None of them imports torch or
the worker code.
"""
