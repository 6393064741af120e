"""The known test secrets, and how a test declares a file that holds one on purpose.

The values are distinctive (a fixed prefix and a random tail) so that finding one anywhere is
never a coincidence, and made of URL-safe characters only, so that percent-encoding, JSON or
shell quoting cannot disguise them: a leak shows up as the exact bytes.

At the end of every pytest session, ``tests/support/secret_scan.py`` searches every file the
session wrote under its base temporary directory for these values and fails the session on a
hit. Files that hold a secret on purpose are exempt:

- files whose name ends in ``.env`` (the deployment's ``config/schnitzel-stream.env`` and env
  files that tests write as input): secrets belong there;
- files a test declares with :func:`allow_secret_file` (a graph or data file that is test
  input containing a secret on purpose).
"""

from __future__ import annotations

from pathlib import Path

#: The password of the test camera (``rtsp://viewer:<password>@host/cam``).
CAMERA_PASSWORD = "sstest-campw-Q7vK2xT9m4"
#: The backend's bearer token (``Authorization: Bearer <token>``).
BACKEND_TOKEN = "sstest-token-Hq4nW8rB3yLp6D"
#: The MQTT broker password.
MQTT_PASSWORD = "sstest-mqttpw-Xc5jR1sV0e8"

#: Every known secret, by the name reports use.
KNOWN_SECRETS: dict[str, str] = {
    "CAMERA_PASSWORD": CAMERA_PASSWORD,
    "BACKEND_TOKEN": BACKEND_TOKEN,
    "MQTT_PASSWORD": MQTT_PASSWORD,
}

#: The per-directory list of files that hold a secret on purpose (one file name per line).
ALLOW_MARKER = ".secret-scan-allow"
#: Files with this suffix are env files: the one place secrets belong.
ENV_SUFFIX = ".env"


def allow_secret_file(path: Path) -> Path:
    """Declare ``path`` as test input that holds a known secret on purpose; returns ``path``.

    The declaration is a line in ``ALLOW_MARKER`` next to the file, so it works from any
    xdist worker without shared state, and it covers only that one file name.
    """
    with (path.parent / ALLOW_MARKER).open("a", encoding="utf-8") as marker:
        marker.write(path.name + "\n")
    return path


def find_secrets(data: bytes) -> list[str]:
    """The names of the known secrets that occur in ``data``."""
    return [name for name, value in KNOWN_SECRETS.items() if value.encode() in data]
