"""A real mosquitto broker per test, and a real paho subscriber to read what arrived.

Each broker runs as its own ``mosquitto -c <conf>`` process on a free 127.0.0.1 port, with
its config, persistence file and log in the test's ``tmp_path``; the system service is never
used. :meth:`MosquittoBroker.stop` and :meth:`MosquittoBroker.start` on the same object
simulate a broker restart on the same port (persistence keeps sessions and queued messages
across it, as a production broker would). Fixtures stop the process even when a test fails.

Use the fixtures from a test module with ``pytest_plugins = ["tests.support.mqtt"]``.
A missing mosquitto makes the tests fail (never skip) with the install command.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from tests.support.net import free_port, wait_for_port

__all__ = [
    "MosquittoBroker",
    "MosquittoMissingError",
    "Received",
    "Subscriber",
    "make_tls_files",
    "mosquitto",
    "mosquitto_acl",
    "mosquitto_auth",
    "mosquitto_binary",
    "mosquitto_tls",
    "mqtt_subscriber",
    "running_mosquitto",
    "subscriber",
]

INSTALL_HINT = "install it with: apt-get install -y mosquitto"
AUTH_USER = "edge-device"
AUTH_PASSWORD = "s3cret-Pa55word-for-tests"


class MosquittoMissingError(RuntimeError):
    """mosquitto (or mosquitto_passwd) is not installed."""


def mosquitto_binary(name: str = "mosquitto") -> str:
    """The path of a mosquitto executable; Debian puts the broker in /usr/sbin."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/opt/homebrew/sbin")
    if not found:
        raise MosquittoMissingError(f"{name} is not installed, so the MQTT tests cannot run; {INSTALL_HINT}")
    return found


@dataclass
class MosquittoBroker:
    """One mosquitto process (and its files) under ``root``; restartable on the same port."""

    root: Path
    port: int = field(default_factory=free_port)
    users: dict[str, str] | None = None
    tls: dict[str, Path] | None = None
    acl: str | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.conf_path = self.root / "mosquitto.conf"
        self.log_path = self.root / "mosquitto.log"
        self.conf_path.write_text(self._config(), encoding="utf-8")

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def _config(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.users else 'true'}",
            # Running as root, mosquitto would switch to the 'mosquitto' user, which cannot
            # write to tmp_path; naming the current user keeps it as it is.
            f"user {getpass.getuser()}",
            "persistence true",
            f"persistence_location {self.root}{os.sep}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if self.users:
            password_file = self.root / "passwords"
            password_file.write_text("", encoding="utf-8")
            for user, password in self.users.items():
                subprocess.run(
                    [mosquitto_binary("mosquitto_passwd"), "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
            lines.append(f"password_file {password_file}")
        if self.acl is not None:
            acl_file = self.root / "acl"
            acl_file.write_text(self.acl, encoding="utf-8")
            lines.append(f"acl_file {acl_file}")
        if self.tls:
            lines += [
                f"cafile {self.tls['ca']}",
                f"certfile {self.tls['cert']}",
                f"keyfile {self.tls['key']}",
            ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        """Start mosquitto and wait until it accepts connections."""
        if self.process is not None:
            raise RuntimeError("mosquitto is already running")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port, timeout=timeout)
        except TimeoutError:
            code = self.process.poll()
            self.stop()
            raise RuntimeError(
                f"mosquitto did not come up on port {self.port} (exit code {code}):\n{self.log_text()}"
            ) from None
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (mosquitto saves its persistence file), then SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def running_mosquitto(root: Path, **options: Any) -> Iterator[MosquittoBroker]:
    """A started broker under ``root``, stopped on exit whatever happens."""
    broker = MosquittoBroker(root, **options)
    try:
        yield broker.start()
    finally:
        broker.stop()


def _broker_or_fail(root: Path, **options: Any) -> contextlib.AbstractContextManager[MosquittoBroker]:
    try:
        mosquitto_binary()
    except MosquittoMissingError as exc:
        pytest.fail(str(exc), pytrace=False)
    return running_mosquitto(root, **options)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """An anonymous broker with persistence on a free loopback port."""
    with _broker_or_fail(tmp_path / "broker") as broker:
        yield broker


@pytest.fixture
def mosquitto_auth(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A broker that only admits :data:`AUTH_USER` with :data:`AUTH_PASSWORD`."""
    with _broker_or_fail(tmp_path / "broker", users={AUTH_USER: AUTH_PASSWORD}) as broker:
        yield broker


@pytest.fixture
def mosquitto_acl(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """Like ``mosquitto_auth``, but :data:`AUTH_USER` may only publish below ``allowed/``."""
    acl = f"user {AUTH_USER}\ntopic write allowed/#\n"
    with _broker_or_fail(tmp_path / "broker", users={AUTH_USER: AUTH_PASSWORD}, acl=acl) as broker:
        yield broker


@pytest.fixture
def mosquitto_tls(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A TLS-only broker (``mqtts://``) whose certificate a throwaway CA signed: ``broker.tls["ca"]``."""
    tls = make_tls_files(tmp_path / "tls")
    with _broker_or_fail(tmp_path / "broker", tls={k: tls[k] for k in ("ca", "cert", "key")}) as broker:
        yield broker


@pytest.fixture
def mqtt_subscriber() -> Iterator[Callable[..., Subscriber]]:
    """Start :class:`Subscriber` objects (same arguments); all are closed after the test."""
    started: list[Subscriber] = []

    def start(broker: MosquittoBroker, topic: str = "#", **options: Any) -> Subscriber:
        sub = Subscriber(broker, topic, **options)
        started.append(sub)
        return sub

    yield start
    for sub in started:
        sub.close()


def make_tls_files(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("openssl is not installed; install it with: apt-get install -y openssl", pytrace=False)
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / f"{name}.pem" for name in ("ca", "ca_key", "cert", "key", "csr")}
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="utf-8")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30)

    ca, ca_key, cert, key, csr = (str(files[name]) for name in ("ca", "ca_key", "cert", "key", "csr"))
    new_ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj"]
    run("req", "-x509", *new_ec_key, "/CN=schnitzel test CA", "-keyout", ca_key, "-out", ca, "-days", "2")
    run("req", *new_ec_key, "/CN=127.0.0.1", "-keyout", key, "-out", csr)
    signing = ["-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-extfile", str(ext)]
    run("x509", "-req", "-in", csr, *signing, "-out", cert, "-days", "2")
    return files


@dataclass(frozen=True, slots=True)
class Received:
    """One message as a subscriber saw it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    user_properties: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """A real paho subscriber that collects every message it receives.

    It speaks MQTT 5, so tests can read user properties. With ``persistent=True`` it speaks
    MQTT 3.1.1 with ``clean_session=False`` instead: its session (and the broker's queue of
    messages for it) then outlives disconnects and broker restarts, and paho reconnects it.
    mosquitto 2.0.11 does not restore MQTT 5 sessions (session expiry) from its persistence
    file, but it does restore 3.1.1 persistent sessions.
    """

    def __init__(
        self,
        broker: MosquittoBroker,
        topic: str = "#",
        *,
        qos: int = 1,
        client_id: str = "test-subscriber",
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._topic = topic
        self._qos = qos
        if persistent:
            self.client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv311,
                clean_session=False,
            )
        else:
            self.client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        if username:
            self.client.username_pw_set(username, password)
        if broker.tls:
            self.client.tls_set(ca_certs=str(broker.tls["ca"]))
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            self.close()
            raise TimeoutError(f"subscriber did not subscribe to {topic!r} on {broker.url}")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self._topic, qos=self._qos)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self._subscribed.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        raw = getattr(message.properties, "UserProperty", None) or []
        received = Received(
            message.topic, bytes(message.payload), message.qos, bool(message.retain), dict(raw)
        )
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        """Wait until ``predicate(messages)`` holds; return a snapshot either way."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        return self.wait_until(lambda messages: len(messages) >= count, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def subscriber(broker: MosquittoBroker, topic: str = "#", **options: Any) -> Iterator[Subscriber]:
    """A started :class:`Subscriber`, closed on exit."""
    sub = Subscriber(broker, topic, **options)
    try:
        yield sub
    finally:
        sub.close()
