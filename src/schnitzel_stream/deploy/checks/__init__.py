"""Per-service-manager checks of a rendered service file, used by ``validate --deployment``.

One module per manager: ``systemd`` (units), ``winsvc`` (the Windows service definition), ``launchd``
(plists).
"""
