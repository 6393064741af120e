"""A real RTSP camera for tests and benchmarks: GStreamer's RTSP server with a test pattern.

Run it under Debian's own interpreter, because the GObject bindings (python3-gi and
gir1.2-gst-rtsp-server-1.0) are not installable into a virtual environment::

    /usr/bin/python3 ops/ci/rtsp_server.py --port 8554 [--width 640 --height 360 --fps 15]

It serves ``rtsp://127.0.0.1:PORT/cam`` (H.264 over RTP, shared between clients) and prints
one line ``READY rtsp://127.0.0.1:PORT/cam`` on stdout once it listens. With ``--user`` and
``--password`` it demands HTTP basic authentication, like a real camera.

Like a real camera, the stream is live and not seekable. GStreamer's own ``videotestsrc`` says it
can seek even when live, and gst-rtsp-server 1.22 then runs a flushing seek of the shared
pipeline for every client's ``PLAY`` (FFmpeg always sends ``Range: npt=0.000-``). A second
``PLAY`` that arrives after such a flush but before the next frame finds no segment on the
stream and aborts the whole server (``gst_rtsp_media_get_rates: assertion failed``), so clients
that connect at once could kill the camera. The payloader therefore answers "not seekable".

Killing the process and starting it again on the same port simulates a camera outage;
``SIGSTOP``/``SIGCONT`` simulate a camera that keeps the connection open but stops sending.
The server exits when its parent process goes away, so a crashed test run leaves no orphan.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

PATTERNS = ("ball", "smpte", "snow", "black", "white", "gradient", "circular", "pinwheel")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a GStreamer test pattern over RTSP.")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--mount", default="/cam", help="mount path of the stream (default: /cam)")
    parser.add_argument("--width", type=int, default=640, help="frame width (default: 640)")
    parser.add_argument("--height", type=int, default=360, help="frame height (default: 360)")
    parser.add_argument("--fps", type=int, default=15, help="frames per second (default: 15)")
    parser.add_argument("--pattern", default="ball", choices=PATTERNS, help="videotestsrc pattern")
    parser.add_argument("--user", help="require basic authentication with this user name")
    parser.add_argument("--password", help="password for --user")
    args = parser.parse_args(argv)
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    if not args.mount.startswith("/"):
        parser.error("--mount must start with '/'")
    return args


def _launch_line(args: argparse.Namespace) -> str:
    # key-int-max equal to the frame rate gives a keyframe every second, so a client that
    # (re)connects decodes its first frame within a second, as with a typical IP camera.
    return (
        f"( videotestsrc is-live=true pattern={args.pattern} "
        f"! video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} "
        "! rtph264pay name=pay0 pt=96 )"
    )


def _not_seekable(gst: Any, media: Any) -> None:
    """Make ``media`` answer seeking queries like a live camera: not seekable.

    gst-rtsp-server asks the pipeline (and, failing that, the payloader) before it seeks on
    ``PLAY``; the probe answers at the payloader, so no query reaches ``videotestsrc``. The
    bindings cannot write into the query (it is not writable from Python), but a new seeking
    query already says "not seekable", so answering it unchanged is the answer we want.
    """

    def answer(_pad: Any, info: Any) -> Any:
        if info.get_query().type == gst.QueryType.SEEKING:
            return gst.PadProbeReturn.HANDLED
        return gst.PadProbeReturn.OK

    payloader = media.get_element().get_by_name("pay0")
    payloader.get_static_pad("src").add_probe(gst.PadProbeType.QUERY_UPSTREAM, answer)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as exc:
        print(
            f"rtsp_server: GStreamer RTSP bindings unavailable ({exc}); run under /usr/bin/python3 "
            "with gir1.2-gst-rtsp-server-1.0, python3-gi and gstreamer1.0-plugins-{base,good,ugly}",
            file=sys.stderr,
        )
        return 3

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_launch_line(args))
    factory.set_shared(True)
    factory.connect("media-configure", lambda _factory, media: _not_seekable(Gst, media))

    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        factory.add_role_from_structure(
            Gst.Structure.new_from_string(
                "camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )
        )

    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 4

    loop = GLib.MainLoop()
    parent = os.getppid()

    def _parent_gone() -> bool:
        # Reparenting means our parent died without stopping us: end instead of lingering.
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    GLib.timeout_add(500, _parent_gone)
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda: (loop.quit(), False)[1])

    print(f"READY rtsp://{args.host}:{args.port}{args.mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
