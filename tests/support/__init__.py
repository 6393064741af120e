"""Shared test support: ports, waiting, and the real servers the integration tests start.

Fixtures for each real server live in their own module here (``http_backend``, ``rtsp``,
``mqtt``); test modules import the fixtures they use.
"""
