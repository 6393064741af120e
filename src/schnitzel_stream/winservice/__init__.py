"""The Windows service host: the runtime under the Service Control Manager (SCM).

Why a service and not a scheduled task: Task Scheduler's ``RestartOnFailure`` retries only a
task that fails to *start* (MS-TSCH 2.5.4.2: "because one of the start conditions is not met
or because of a failure to start an action"), so a runtime that exits with an error stays
down; and ``Stop-ScheduledTask`` stops a task "immediately", so the graph's ``close()`` never
runs. The SCM restarts a service whose process dies (recovery actions), and asks it to stop.

How it runs: the SCM starts the deployment's own interpreter, isolated,
``python.exe -I -m schnitzel_stream windows-service run --name NAME ... -- RUNTIME ARGS``.
That process hosts the service (pywin32's ``servicemanager``) and runs the runtime,
``python.exe -I -m schnitzel_stream RUNTIME ARGS``, as a child in its own process group
(:mod:`._supervisor`); the child dies with it (a job object). A stop from the SCM sends the
child CTRL_BREAK, the runtime's graceful stop, and waits for it.

How an exit is reported (SCM semantics, ``SERVICE_FAILURE_ACTIONS_FLAG``): failure actions
run when the service *process terminates* without reporting ``SERVICE_STOPPED``; the flag
that would also run them on a non-zero exit code stays off. So

- a crash of the runtime (any exit but 0 and 78, no stop asked) ends the host process at once
  without reporting a status: the SCM's recovery action restarts the service after the
  configured delay;
- exit 78 (the graph is invalid) and exit 0 report ``SERVICE_STOPPED`` with exit code 0: no
  recovery, no restart loop; the host's log and the Application event log say why.

Only :mod:`._host` and :mod:`._manage` import pywin32, and only Windows imports them.
"""
