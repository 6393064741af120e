"""URL masking (redact.py): the one masker, property-tested over hostile userinfo.

Passwords with an unencoded ``@``, ``:``, ``/`` or ``%40``, bare tokens, IPv6 hosts and
ports, query strings, URLs inside text, and URLs without a scheme: the password never shows,
the user and the rest of the URL stay readable.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schnitzel_stream import redact

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
users = st.text(alphabet=_ALNUM + "._-~%!$&'*+,;=", min_size=1, max_size=12).filter(lambda u: "'" not in u)
# Everything a password typed by hand holds, the characters that break naive parsers included.
passwords = st.text(alphabet=_ALNUM + "@:/%!$&*+,;=._~-", min_size=1, max_size=16).filter(
    lambda p: not p.startswith("/")
)
hosts = st.sampled_from(["cam", "192.168.1.20", "[::1]", "[fe80::1%25eth0]", "broker.example.com", "x"])
ports = st.sampled_from(["", ":554", ":8883", ":1"])
paths = st.sampled_from(["", "/", "/stream1", "/a/b?c=1", "/x?token=abc", "/ingest#frag"])
schemes = st.sampled_from(["rtsp", "rtsps", "http", "https", "mqtt", "mqtts", "tcp", "git+ssh"])


def _expected_rest(path: str) -> str:
    return path.replace("token=abc", f"token={redact.MASK}")


@given(schemes, users, passwords, hosts, ports, paths)
def test_a_password_never_shows(
    scheme: str, user: str, password: str, host: str, port: str, path: str
) -> None:
    url = f"{scheme}://{user}:{password}@{host}{port}{path}"
    assert redact.mask_url(url) == f"{scheme}://{user}:{redact.MASK}@{host}{port}{_expected_rest(path)}"
    assert redact.url_passwords(url) == [password]


@given(schemes, users, passwords, hosts, ports, paths, st.sampled_from(["url=", "(", "'", '"', "see ", ""]))
def test_urls_inside_text(
    scheme: str, user: str, password: str, host: str, port: str, path: str, before: str
) -> None:
    close = {"(": ")", "'": "'", '"': '"'}.get(before, "")
    text = f"connecting {before}{scheme}://{user}:{password}@{host}{port}{path}{close} failed: timeout"
    masked = redact.mask_url(text)
    expected = f"{scheme}://{user}:{redact.MASK}@{host}{port}{_expected_rest(path)}"
    assert f"{before}{expected}{close} failed: timeout" in masked
    assert masked.startswith("connecting ")


@given(users, passwords, hosts, ports, paths)
def test_urls_without_a_scheme(user: str, password: str, host: str, port: str, path: str) -> None:
    text = f"{user}:{password}@{host}{port}{path}"
    assert redact.mask_url(text) == f"{user}:{redact.MASK}@{host}{port}{_expected_rest(path)}"


@given(schemes, st.text(alphabet=_ALNUM + "@%._-", min_size=1, max_size=20), hosts, paths)
def test_a_bare_token_is_masked_whole(scheme: str, token: str, host: str, path: str) -> None:
    url = f"{scheme}://{token}@{host}{path}"
    assert redact.mask_url(url) == f"{scheme}://{redact.MASK}@{host}{_expected_rest(path)}"
    assert redact.url_passwords(url) == []  # a token may be a user name: masked, never registered


@given(schemes, hosts, ports, st.sampled_from(["/stream", "/users/@me", "/a/b@c/d", ""]))
def test_urls_without_credentials_are_left_alone(scheme: str, host: str, port: str, path: str) -> None:
    # host:port/...@... would be masked from the colon on: too much rather than too little.
    assume(not (port and "@" in path))
    url = f"{scheme}://{host}{port}{path}"
    assert redact.mask_url(url) == url


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("https://user:hunter@22@host/x", "https://user:***@host/x", id="issue-11"),
        pytest.param("rtsp://admin:p@ss/w@cam/s", "rtsp://admin:***@cam/s", id="at-and-slash"),
        pytest.param("rtsp://admin:pa%40ss@cam/s", "rtsp://admin:***@cam/s", id="percent-40"),
        pytest.param("http://user:pw@[::1]:8080/p", "http://user:***@[::1]:8080/p", id="ipv6"),
        pytest.param("https://medium.com/@author", "https://medium.com/@author", id="at-in-path"),
        pytest.param("mqtts://bob:s3@broker:8883 and x", "mqtts://bob:***@broker:8883 and x", id="in-text"),
        pytest.param("https://h/x?token=abc&b=1", "https://h/x?token=***&b=1", id="query-token"),
        pytest.param("12:30 at the gate @ noon", "12:30 at the gate @ noon", id="not-a-url"),
    ],
)
def test_examples(text: str, masked: str) -> None:
    assert redact.mask_url(text) == masked


def test_registered_url_passwords_are_masked_alone_too() -> None:
    redact.register_url_secrets("rtsp://viewer:Sp3c!al@pw/x@cam/s")
    assert redact.redact("ffmpeg said: auth failed for Sp3c!al@pw/x") == "ffmpeg said: auth failed for ***"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://user:pw@hooks.example.com:8443/T0KEN?x=1", "https://hooks.example.com:8443"),
        ("http://[::1]/x", "http://[::1]"),
        ("mqtt://u:p@@broker:1883", "mqtt://broker:1883"),
        ("https://host:99999/x", "https://***"),
    ],
)
def test_url_origin_shows_nothing_of_userinfo_path_or_query(url: str, origin: str) -> None:
    assert redact.url_origin(url) == origin


def test_env_secrets_are_the_one_list_of_an_env_files_secrets() -> None:
    """What ``--env-file`` registers for masking and what ``validate --deployment`` looks for."""
    env = {
        "BACKEND_TOKEN": "Bearer abcdef123",
        "MQTT_PASSWORD": "hunter22",
        "API_KEY": "k1",  # too short to mask
        "CAMERA_URL": "rtsp://admin:p%40ss%2Fw0rd@cam.local/stream",
        "LOG_LEVEL": "info",  # not a secret name, no URL
        "BACKEND_URL": "https://backend.local/ingest",
    }
    assert redact.env_secrets(env) == {
        "Bearer abcdef123": "BACKEND_TOKEN",
        "abcdef123": "BACKEND_TOKEN",
        "hunter22": "MQTT_PASSWORD",
        "p%40ss%2Fw0rd": "CAMERA_URL",
        "p@ss/w0rd": "CAMERA_URL",
    }
