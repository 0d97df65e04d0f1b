"""The gate: every message a worker pops from Redis is checked whole before Celery sees it.

Celery's consumer raises on a message of the wrong shape outside its arguments (an envelope that
is not JSON, a ``task`` header that is a list, a ``timelimit`` that is a number, ...) and the
worker exits; a message that kombu had already recorded as unacknowledged goes back to the queue
at shutdown, so every worker that starts dies on it again. So the check runs where the raw bytes
come out of Redis, below kombu and Celery:

* :class:`Transport` is kombu's Redis transport with :class:`GatedChannel`, whose Redis client
  hands each reply of ``BRPOP`` (how a worker takes messages) and ``RPOP`` to :class:`Gate`,
  and each message of its fanout subscription (Celery's remote control) too.
* :meth:`Gate.admit` runs :func:`braillejobs.messages.inspect_raw`. A well-formed translate task
  goes on unchanged. Anything else is moved, as it was, to the dead-letter list with the reason
  and the time (:mod:`braillejobs.fleet.deadletters`) and the reply is turned into "nothing yet": the
  message was popped, so it is acknowledged, never requeued, never decoded by kombu, never run.

The worker uses this transport (``broker_transport``); the admin host keeps kombu's own.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from typing import Callable

from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import bytes_to_str

from braillejobs import config
from braillejobs.fleet import deadletters
from braillejobs.messages import Refusal, inspect_broadcast, inspect_raw

log = logging.getLogger("braillejobs.worker")

# Called with each Refusal after its message went to the dead-letter list (metrics); a failing
# hook is logged and never stops the worker.
on_dead_letter: list[Callable[[Refusal], None]] = []

_node = {"name": f"{os.getpid()}@{socket.gethostname()}"}


def set_node_name(name: str) -> None:
    """The worker's Celery node name, recorded with each dead letter."""
    _node["name"] = name


class Gate:
    """Checks raw messages of one channel; moves refused ones to the dead-letter list."""

    def __init__(self, channel: "GatedChannel"):
        self.channel = channel
        self.max_bytes = config.get("max_message_bytes")
        self.max_eta = config.get("visibility_timeout")
        self.dead_letters = config.get("dead_letter_list")
        self.keep = config.get("dead_letter_max")
        self.sep = channel.sep

    def admit(self, key, raw) -> bool:
        """True when ``raw`` (popped from list ``key``) may go on to Celery."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        refusal = inspect_raw(raw, max_bytes=self.max_bytes, max_eta_seconds=self.max_eta)
        if refusal is None:
            return True
        queue = bytes_to_str(key).rsplit(self.sep, 1)[0]
        self._dead_letter(queue, raw, refusal)
        return False

    def admit_broadcast(self, channel, raw) -> bool:
        """True when ``raw``, published on fanout ``channel`` (remote control), may go on."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        refusal = inspect_broadcast(raw, max_bytes=self.max_bytes)
        if refusal is None:
            return True
        name = bytes_to_str(channel)
        if name.startswith("/"):  # kombu's "/<db>." prefix of fanout channels
            name = name.partition(".")[2]
        self._dead_letter(name, raw, refusal, source="broadcast")
        return False

    def _dead_letter(self, queue: str, raw: bytes, refusal: Refusal,
                     source: str = "queue") -> None:
        letter, kept = deadletters.make_record(raw, refusal, queue=queue, source=source,
                                               worker=_node["name"], max_bytes=self.max_bytes)
        try:
            with self.channel.conn_or_acquire() as client:
                deadletters.push(client, letter, kept, name=self.dead_letters, keep=self.keep)
        except Exception as exc:
            # The message was popped already: say so loudly, with what identifies it.
            log.error("%s %s: refused a message (%s) and could not move it to the dead-letter "
                      "list %s (%s: %s); it is lost: %d bytes, sha256 %s", source, queue,
                      refusal, self.dead_letters, exc.__class__.__name__, exc, len(raw),
                      letter.sha256)
        else:
            log.error("%s %s: refused a message (%s); moved to the dead-letter list %s as %s "
                      "(braillejobs dead-letters show %s)", source, queue, refusal,
                      self.dead_letters, letter.id, letter.id)
        for hook in on_dead_letter:
            try:
                hook(refusal)
            except Exception:
                log.exception("dead-letter hook %r failed", hook)


class _GatedClient:
    """Mixed in before the redis-py client class kombu picks: replies of the commands that take
    messages off a queue pass the gate first. ``BRPOP``'s reply is (key, message); a refused
    message becomes the reply of a BRPOP that timed out (None), which kombu reads as 'nothing
    yet' before it starts the next one."""

    _gate: Gate

    def parse_response(self, connection, command_name, **options):
        reply = super().parse_response(connection, command_name, **options)
        if command_name == "BRPOP" and reply:
            key, raw = reply
            if not self._gate.admit(key, raw):
                return None
        return reply

    def rpop(self, name, count=None):
        raw = super().rpop(name, count)
        if raw is not None and count is None and not self._gate.admit(name, raw):
            return None
        return raw

    def pubsub(self, **kwargs):
        """The fanout subscription (remote control broadcasts): each published message passes
        :meth:`Gate.admit_broadcast`; a refused one reads as no message."""
        pubsub = super().pubsub(**kwargs)
        read, gate = pubsub.parse_response, self._gate

        def parse_response(*args, **kw):
            reply = read(*args, **kw)
            if isinstance(reply, (list, tuple)) and len(reply) >= 3 and reply[-1] and \
                    bytes_to_str(reply[0]).endswith("message") and \
                    not gate.admit_broadcast(reply[-2], reply[-1]):
                return None
            return reply

        pubsub.parse_response = parse_response
        return pubsub


class GatedChannel(kombu_redis.Channel):
    def _get_client(self):
        base = super()._get_client()
        keywords = {}
        if isinstance(base, functools.partial):  # global_keyprefix: partial(PrefixedStrictRedis)
            base, keywords = base.func, dict(base.keywords)
        gate = Gate(self)
        gated = type(f"Gated{base.__name__}", (_GatedClient, base), {"_gate": gate})
        return functools.partial(gated, **keywords) if keywords else gated


class Transport(kombu_redis.Transport):
    """kombu's Redis transport, every consumed message checked by :class:`Gate`."""

    Channel = GatedChannel


TRANSPORT = f"{__name__}:Transport"


def broker_ssl(url: str, configured):
    """The ``broker_use_ssl`` a worker needs with :data:`TRANSPORT` for ``url``.

    kombu turns TLS on by itself for a ``rediss://`` URL only when it picks the transport from
    the scheme; with a transport named explicitly it must be told. Options given in the URL
    (``ssl_cert_reqs=...``) or in ``configured`` are kept; a bare ``rediss://`` gets kombu's own
    default (TLS without a certificate check, with kombu's warning)."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    if configured or parts.scheme.lower() != "rediss" or \
            any(k.startswith("ssl_") for k in parse_qs(parts.query)):
        return configured
    import ssl

    log.warning("broker URL is rediss:// with no ssl_cert_reqs: TLS without a certificate "
                "check (add ?ssl_cert_reqs=required&ssl_ca_certs=CA.pem to the URL)")
    return {"ssl_cert_reqs": ssl.CERT_NONE}
