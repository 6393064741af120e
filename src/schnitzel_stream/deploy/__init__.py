"""Deployment roots: checking what the copier template rendered, and the machine it runs on.

- :func:`schnitzel_stream.deploy.root.validate_deployment` (``validate --deployment ROOT``)
  checks a whole root and returns the same report ``validate`` renders;
- :func:`schnitzel_stream.deploy.doctor.run_doctor` (``doctor``) checks this machine;
- :mod:`~schnitzel_stream.deploy.envfile` reads env files (also ``--env-file``), and
  :mod:`~schnitzel_stream.deploy.lock_export` the template's ``requirements.lock.txt``.

This package is named apart from the repository's top-level ``ops/`` folder on purpose.
"""
