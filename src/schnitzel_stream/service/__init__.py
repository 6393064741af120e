"""The service host: the runtime supervised as a child, for managers that cannot tell exits apart.

systemd runs the runtime directly: ``RestartPreventExitStatus=78`` keeps an invalid graph
from restarting, ``Restart=on-failure`` restarts a crash. Two managers cannot do that alone:

- **Windows.** Task Scheduler's ``RestartOnFailure`` retries only a task that fails to
  *start* (MS-TSCH 2.5.4.2: "because one of the start conditions is not met or because of a
  failure to start an action"), so a runtime that exits with an error stays down, and
  ``Stop-ScheduledTask`` stops a task "immediately" (no ``close()``). So the runtime runs
  under the Service Control Manager (SCM) as a real service (pywin32), ``service run --scm``.
- **launchd.** ``KeepAlive`` restarts every non-zero exit (``SuccessfulExit = false``) or only
  a death by signal (``Crashed``); it cannot keep exit 78 from restarting while restarting
  exit 1. So the plist starts ``service run --exit-0-when-invalid``.

The host (``python -I -m schnitzel_stream service run ... -- RUNTIME ARGS``) runs the runtime,
``python -I -m schnitzel_stream RUNTIME ARGS``, as a child in its own process group
(:mod:`._supervisor`), forwards a stop as the runtime's graceful stop (SIGTERM, or CTRL_BREAK
on Windows), and turns the runtime's exit into what the manager understands:

- a crash (any exit but 0 and 78 without a stop asked for): launchd sees exit 1 and
  restarts after ``ThrottleInterval``; under the SCM the host ends without reporting a status,
  which runs the service's recovery action (restart after the delay). The SCM's
  failure-actions flag stays off (``SERVICE_FAILURE_ACTIONS_FLAG``: with it off, recovery
  runs only "if the service terminates without reporting a status of SERVICE_STOPPED");
- exit 78 (invalid graph) and exit 0: launchd sees exit 0 (``--exit-0-when-invalid``), the
  SCM sees ``SERVICE_STOPPED`` with exit code 0: no restart, no loop; the host's log (and
  the Application event log on Windows) says why.

Only :mod:`._scm_host` and :mod:`._scm_manage` import pywin32, and only on Windows.
"""
