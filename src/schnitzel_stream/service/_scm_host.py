"""The service process under the SCM (Windows only: imports pywin32).

:func:`serve` registers with the SCM (``StartServiceCtrlDispatcher``) and runs the runtime
through :class:`~._supervisor.Supervisor` until it exits. See the package docstring for what
each exit reports to the SCM.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import servicemanager
import win32api
import win32con
import win32console
import win32job
import win32service
import win32serviceutil

from schnitzel_stream.service._supervisor import Supervisor

#: How long the SCM is told a start may take (the first import of OpenCV is slow on a cold disk).
_START_HINT_MS = 60_000


def serve(name: str, supervisor: Supervisor, log: Callable[[str], None]) -> None:
    """Host service ``name``; returns when the SCM's dispatcher does (the service stopped)."""
    host = _host_class(name, supervisor, log)
    servicemanager.Initialize(name, servicemanager.__file__)
    servicemanager.PrepareToHostSingle(host)
    servicemanager.StartServiceCtrlDispatcher()


def _host_class(name: str, supervisor: Supervisor, log: Callable[[str], None]) -> type[Any]:
    stop_timeout = supervisor.stop_timeout

    class Host(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        _svc_name_ = name
        _svc_display_name_ = name

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self.supervisor = supervisor

        def SvcStop(self) -> None:
            self.ReportServiceStatus(
                win32service.SERVICE_STOP_PENDING, waitHint=int((stop_timeout + 5) * 1000)
            )
            self.supervisor.request_stop()

        SvcShutdown = SvcStop

        def SvcRun(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_START_PENDING, waitHint=_START_HINT_MS)
            _console_for_the_child()
            try:
                pid = self.supervisor.start()
            except OSError as exc:
                _crash(log, f"cannot start the runtime: {exc}")
            job = _kill_with_this_process(pid, log)
            self.ReportServiceStatus(win32service.SERVICE_RUNNING)
            finished = self.supervisor.wait()
            del job
            if finished.outcome == "crashed":
                _crash(log, finished.describe(), finished.tail)
            if finished.outcome == "invalid":
                message = (
                    f"{name}: the graph is invalid (exit 78): the service stays stopped; fix the "
                    "graph (schnitzel-stream validate --deployment ROOT) and start it again"
                )
                log(message)
                servicemanager.LogErrorMsg(message)
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
            # Returning makes the dispatcher report SERVICE_STOPPED with exit code 0: no recovery.

    return Host


def _crash(log: Callable[[str], None], message: str, tail: Sequence[str] = ()) -> NoReturn:
    """End the host without reporting a status, so that the SCM's recovery action restarts it."""
    detail = "\n".join(tail[-15:])
    log(
        f"{message}; exiting so that the service's recovery action restarts it"
        + (f"\n{detail}" if detail else "")
    )
    try:
        servicemanager.LogErrorMsg(f"{message}\n{detail}".strip())
    finally:
        os._exit(1)


def _console_for_the_child() -> None:
    """A (hidden) console to share with the runtime: CTRL_BREAK travels only within one.

    A service starts without a console. The host ignores every console event itself; the
    runtime, in its own process group, gets the CTRL_BREAK the stop sends to that group.
    """
    # It may have one already (a service started from a console for debugging).
    with contextlib.suppress(win32api.error):
        win32console.AllocConsole()
    win32api.SetConsoleCtrlHandler(lambda _event: True, True)


def _kill_with_this_process(pid: int, log: Callable[[str], None]) -> Any:
    """A job that kills the runtime when the host ends, however it ends (the handle closes)."""
    job = win32job.CreateJobObject(None, "")
    limits = win32job.QueryInformationJobObject(job, win32job.JobObjectExtendedLimitInformation)
    limits["BasicLimitInformation"]["LimitFlags"] |= win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    win32job.SetInformationJobObject(job, win32job.JobObjectExtendedLimitInformation, limits)
    process = win32api.OpenProcess(win32con.PROCESS_SET_QUOTA | win32con.PROCESS_TERMINATE, False, pid)
    try:
        win32job.AssignProcessToJobObject(job, process)
    except win32api.error as exc:
        log(f"could not tie the runtime to the service process (it may outlive a crash of it): {exc}")
    finally:
        win32api.CloseHandle(process)
    return job
