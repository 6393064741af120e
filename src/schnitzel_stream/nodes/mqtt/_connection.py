"""One broker connection of the ``mqtt_sink``: a paho client on a network thread of our own.

paho's ``loop_start()`` would reconnect on its own schedule (no jitter); the project has one
backoff mechanism, :class:`~schnitzel_stream.nodes._retry.Backoff`, so this module drives the
connection itself: connect, run ``loop()`` until the connection ends, wait a jittered delay,
connect again, until :meth:`MqttConnection.close`. Publishing over the connection is
``_link``'s.

Threads: the network thread is the only one that touches the socket. With
``on_socket_register_write`` set, paho does not write from a publishing thread, so two
threads never write to the socket at once.

Deadlines: paho bounds the TCP connect and the TLS handshake (each by ``connect_timeout``)
but waits for the broker's CONNACK until its keepalive check, which any trickled byte
resets. So the network thread gives every attempt one deadline, counted from its start: no
CONNACK by :attr:`MqttSettings.connect_timeout_sec` and the attempt is abandoned and made
again after a backoff (the TLS handshake can add up to one more connect timeout). A
connection that a publisher no longer trusts (``_suspect``: a message taken but never
acknowledged) is dropped and made again (paho resends what was in flight).

paho is imported here lazily (in :class:`MqttConnection`'s constructor), never at module import.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._retry import Backoff
from schnitzel_stream.nodes.mqtt._config import MqttSettings, TlsSettings

if TYPE_CHECKING:
    from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags
    from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("schnitzel_stream.nodes.mqtt")

#: select() timeout of the network thread: how soon it notices close().
_LOOP_SLICE = 0.2
#: Messages paho may hold (in flight plus abandoned after a timeout) before publish refuses.
_MAX_QUEUED = 1000
#: How long close() lets the DISCONNECT packet go out before it gives up.
_CLOSE_GRACE = 2.0
#: CONNACK reason codes that mean the credentials are wrong (MQTT 5 and 3.1.1 mapped to 5).
_AUTH_REFUSALS = frozenset({0x86, 0x87, 0x8C})


class MqttConnection:
    """A connection to one broker that its network thread keeps up, reconnecting until closed."""

    def __init__(self, settings: MqttSettings, *, node_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

        self._settings = settings
        self._node_id = node_id
        self._ok = MQTTErrorCode.MQTT_ERR_SUCCESS
        self._v5 = settings.protocol == "mqttv5"
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            reconnect_on_failure=False,
        )
        client.connect_timeout = settings.connect_timeout_sec
        client.max_queued_messages_set(_MAX_QUEUED)
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls is not None:
            _set_tls(client, settings.tls, node_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_socket_register_write = _leave_writes_to_the_network_thread
        client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_sec)
        self._client = client

        self._backoff = Backoff(settings.reconnect_backoff_sec, settings.reconnect_backoff_max_sec)
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._closing = threading.Event()
        #: Set by a publisher whose PUBACK did not come in time: the network thread reconnects.
        self._suspect = threading.Event()
        self._thread: threading.Thread | None = None
        # Guarded by _lock:
        self._up = False
        self._connections = 0
        self._last_problem: str | None = None
        self.reconnects = 0
        self.disconnects = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def last_problem(self) -> str | None:
        """Why the last connection attempt failed, already redacted; ``None`` once connected."""
        with self._lock:
            return self._last_problem

    def start(self) -> None:
        """Start the network thread; it connects in the background."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"mqtt-{self._node_id}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Send DISCONNECT if connected and stop the network thread. Safe to call twice."""
        self._closing.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=_CLOSE_GRACE + self._client.connect_timeout + _LOOP_SLICE)
            if thread.is_alive():
                log.warning("mqtt sink %r: the network thread did not stop in time", self._node_id)

    # -- the network thread ------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._closing.is_set():
            with self._lock:
                connections_before = self._connections
            started = time.monotonic()
            self._suspect.clear()
            try:
                self._client.reconnect()
            except OSError as exc:  # refused, unreachable, DNS, TLS handshake (ssl errors are OSErrors)
                self._note_problem(f"cannot connect: {exc}", level=logging.WARNING)
            except Exception as exc:  # noqa: BLE001 - the network thread must survive anything paho raises
                self._note_problem(f"cannot connect: {type(exc).__name__}: {exc}", level=logging.ERROR)
            else:
                self._serve(started + self._settings.connect_timeout_sec)
            self._went_down("the connection ended")
            if self._closing.is_set():
                break
            with self._lock:
                if self._connections != connections_before:
                    attempt = 0  # this attempt reached the broker: start the backoff over
            delay = self._backoff.delay(attempt)
            attempt += 1
            self._closing.wait(delay)

    def _serve(self, connack_by: float) -> None:
        """Run paho's loop until the connection ends; on close, send DISCONNECT first.

        The connection is abandoned when the broker's CONNACK has not come by
        ``connack_by``, or when a publish found it does not acknowledge (``_suspect``).
        """
        rc = self._ok
        grace_until: float | None = None
        try:
            while rc == self._ok:
                if self._closing.is_set() and grace_until is None:
                    grace_until = time.monotonic() + _CLOSE_GRACE
                    self._client.disconnect()
                if grace_until is not None and time.monotonic() > grace_until:
                    break
                if grace_until is None and self._abandon(connack_by):
                    break
                rc = self._client.loop(timeout=_LOOP_SLICE)
        except Exception as exc:  # noqa: BLE001 - a paho bug must not end reconnecting for good
            self._note_problem(f"network loop failed: {type(exc).__name__}: {exc}", level=logging.ERROR)

    def _abandon(self, connack_by: float) -> bool:
        """Whether to give up this connection: no CONNACK in time, or no PUBACK in time."""
        if not self._connected.is_set():
            if time.monotonic() <= connack_by:
                return False
            timeout = self._settings.connect_timeout_sec
            self._note_problem(f"no CONNACK within {timeout:g}s of connecting", level=logging.WARNING)
            return True
        if not self._suspect.is_set():
            return False
        self._suspect.clear()
        self._went_down(f"no PUBACK within {self._settings.publish_timeout_sec:g}s; reconnecting")
        return True

    # -- paho callbacks (network thread) -------------------------------------------------

    def _on_connect(
        self, client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            hint = " (check username and password_from_env)" if reason.value in _AUTH_REFUSALS else ""
            self._note_problem(f"the broker refused the connection: {reason}{hint}", level=logging.ERROR)
            return
        with self._lock:
            self._up = True
            again = self._connections > 0
            self._connections += 1
            if again:
                self.reconnects += 1
            self._last_problem = None
        self._connected.set()
        verb = "reconnected to" if again else "connected to"
        log.info(
            "mqtt sink %r: %s %s as %r",
            self._node_id,
            verb,
            self._settings.display_url,
            self._settings.client_id,
        )

    def _on_disconnect(
        self, client: Client, userdata: Any, flags: DisconnectFlags, reason: ReasonCode, properties: Any
    ) -> None:
        if flags.is_disconnect_packet_from_server:
            self._went_down(f"the broker sent DISCONNECT ({reason})")
        else:
            # paho reports a closed or broken socket as "Unspecified error"; say what happened.
            self._went_down("the connection closed" if reason.value == 0x80 else str(reason))

    def _went_down(self, reason: str) -> None:
        with self._lock:
            was_up, self._up = self._up, False
            if was_up and not self._closing.is_set():
                self.disconnects += 1
        self._connected.clear()
        if was_up and not self._closing.is_set():
            log.warning(
                "mqtt sink %r: lost the connection to %s: %s; reconnecting",
                self._node_id,
                self._settings.display_url,
                redact.redact(reason),
            )

    def _note_problem(self, text: str, *, level: int) -> None:
        text = redact.redact(text)
        with self._lock:
            changed = text != self._last_problem
            self._last_problem = text
        # One line per new problem, not one per attempt: a long outage must not flood the log.
        if changed:
            log.log(level, "mqtt sink %r: %s: %s", self._node_id, self._settings.display_url, text)


def _leave_writes_to_the_network_thread(client: Client, userdata: Any, sock: Any) -> None:
    """paho's write-readiness hook; its presence alone keeps paho from writing on publish()."""


def _set_tls(client: Client, tls: TlsSettings, node_id: str) -> None:
    import ssl

    try:
        client.tls_set(
            ca_certs=tls.ca_file,
            certfile=tls.cert_file,
            keyfile=tls.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        if tls.insecure:
            client.tls_insecure_set(True)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConfigError(
            Problem(
                "mqtt.tls",
                f"cannot load the TLS files: {redact.redact(str(exc))}",
                f"nodes.{node_id}.config.tls",
            )
        ) from None
