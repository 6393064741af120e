"""Registering and removing the service with the SCM (Windows only: imports pywin32).

``install`` writes exactly what a :class:`~.spec.ServiceSpec` says, through the SCM's own API
(no ``sc.exe`` quoting): the isolated command line, the account, the start type, the
description, and the recovery actions (restart after ``restart_delay_sec``, again and again;
the failure count resets after a day without failure). The failure-actions flag stays off on
purpose: recovery then runs only when the service process dies without reporting a status,
which is what the host does on a crash and never does for an invalid graph.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Literal

import servicemanager
import win32evtlogutil
import win32service
import winerror

from schnitzel_stream.service.windows_spec import ServiceSpec

_START = {
    "auto": win32service.SERVICE_AUTO_START,
    "delayed-auto": win32service.SERVICE_AUTO_START,
    "demand": win32service.SERVICE_DEMAND_START,
}
#: A day without failure resets the failure count; every failure then restarts again.
_RESET_PERIOD_SEC = 86_400
#: The SCM repeats the last action for every further failure.
_RESTARTS = 3


def install(spec: ServiceSpec, log: Callable[[str], None]) -> Literal["created", "updated"]:
    """Create the service, or bring an existing one in line with ``spec``."""
    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        handle, how = _create_or_update(manager, spec)
        try:
            win32service.ChangeServiceConfig2(
                handle, win32service.SERVICE_CONFIG_DESCRIPTION, spec.description
            )
            win32service.ChangeServiceConfig2(
                handle, win32service.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, spec.start == "delayed-auto"
            )
            delay_ms = spec.restart_delay_sec * 1000
            actions = {
                "ResetPeriod": _RESET_PERIOD_SEC,
                "RebootMsg": None,
                "Command": None,
                "Actions": [(win32service.SC_ACTION_RESTART, delay_ms)] * _RESTARTS,
            }
            # The failure-actions flag is left at its default, off (see the module docstring).
            win32service.ChangeServiceConfig2(handle, win32service.SERVICE_CONFIG_FAILURE_ACTIONS, actions)
        finally:
            win32service.CloseServiceHandle(handle)
    finally:
        win32service.CloseServiceHandle(manager)
    # The event source, so that the host's messages read well in the Application log.
    win32evtlogutil.AddSourceToRegistry(spec.name, servicemanager.__file__)
    log(f"{how} service {spec.name}: {spec.image_path()}")
    return how


def _create_or_update(manager: object, spec: ServiceSpec) -> tuple[object, Literal["created", "updated"]]:
    own = win32service.SERVICE_WIN32_OWN_PROCESS
    start = _START[spec.start]
    try:
        handle = win32service.OpenService(manager, spec.name, win32service.SERVICE_ALL_ACCESS)
    except win32service.error as exc:
        if exc.winerror != winerror.ERROR_SERVICE_DOES_NOT_EXIST:
            raise
        handle = win32service.CreateService(
            manager, spec.name, spec.display_name, win32service.SERVICE_ALL_ACCESS, own, start,
            win32service.SERVICE_ERROR_NORMAL, spec.image_path(), None, 0, None, spec.account, "",
        )  # fmt: skip
        return handle, "created"
    win32service.ChangeServiceConfig(
        handle, own, start, win32service.SERVICE_ERROR_NORMAL, spec.image_path(), None, 0, None,
        spec.account, "", spec.display_name,
    )  # fmt: skip
    return handle, "updated"


def remove(name: str, timeout: float, log: Callable[[str], None]) -> bool:
    """Stop the service (gracefully, up to ``timeout``) and delete it; False when there was none."""
    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        try:
            handle = win32service.OpenService(manager, name, win32service.SERVICE_ALL_ACCESS)
        except win32service.error as exc:
            if exc.winerror != winerror.ERROR_SERVICE_DOES_NOT_EXIST:
                raise
            log(f"service {name} is not installed")
            return False
        try:
            _stop(handle, timeout, log)
            win32service.DeleteService(handle)
        finally:
            win32service.CloseServiceHandle(handle)
        _wait_until_gone(manager, name, timeout)
    finally:
        win32service.CloseServiceHandle(manager)
    with contextlib.suppress(win32service.error):
        win32evtlogutil.RemoveSourceFromRegistry(name)
    log(f"removed service {name}")
    return True


def _stop(handle: object, timeout: float, log: Callable[[str], None]) -> None:
    state = win32service.QueryServiceStatus(handle)[1]
    if state == win32service.SERVICE_STOPPED:
        return
    if state != win32service.SERVICE_STOP_PENDING:
        log("stopping the service")
        try:
            win32service.ControlService(handle, win32service.SERVICE_CONTROL_STOP)
        except win32service.error as exc:
            if exc.winerror != winerror.ERROR_SERVICE_NOT_ACTIVE:
                raise
    deadline = time.monotonic() + timeout
    while win32service.QueryServiceStatus(handle)[1] != win32service.SERVICE_STOPPED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the service did not stop within {timeout:g} s")
        time.sleep(0.25)


def _wait_until_gone(manager: object, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            handle = win32service.OpenService(manager, name, win32service.SERVICE_QUERY_STATUS)
        except win32service.error as exc:
            if exc.winerror == winerror.ERROR_SERVICE_DOES_NOT_EXIST:
                return
            raise
        win32service.CloseServiceHandle(handle)
        time.sleep(0.25)
