"""``--env-file PATH``: load a deployment's env file into the environment before anything runs.

systemd reads the env file itself (``EnvironmentFile=``); launchd and the Windows SCM cannot,
so their service files pass ``--env-file`` instead, and secrets stay in that one file. Values
from the file win over variables already set, as with ``EnvironmentFile=``. Values of
secret-looking variables (and passwords inside URLs) are registered for masking before any
log line is written. Masking (``redact``, which loads threading) is imported only then: every
start parses ``--env-file``, few give it.
"""

from __future__ import annotations

import argparse
import os

from schnitzel_stream.errors import ConfigError


def add_env_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-file",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="read NAME=value lines (systemd EnvironmentFile format) into the environment first",
    )


def apply_env_file(args: argparse.Namespace) -> None:
    """Load ``--env-file`` when given. Raises :class:`ConfigError` with every problem in the file."""
    path: str | None = getattr(args, "env_file", None)
    if path:
        os.environ.update(read_env_file_masked(path))


def read_env_file_masked(path: str) -> dict[str, str]:
    """The env file's values, with their secrets registered for masking before anything logs.

    Raises :class:`ConfigError` with every problem in the file.
    """
    from schnitzel_stream import redact
    from schnitzel_stream.deploy.envfile import read_env_file

    parsed = read_env_file(path)
    if parsed.problems:
        raise ConfigError(parsed.problems)
    values = parsed.as_dict()
    for secret in redact.env_secrets(values):
        redact.register_secret(secret)
    return values
