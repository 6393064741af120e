"""schnitzel-stream: stream-processing graphs at the edge, cameras in, events out.

The public surface is the CLI, the graph format, the node contract
(:mod:`schnitzel_stream.nodes.base`), the packet record and the published schemas.
Everything else is internal and may change.

This module imports nothing (not even ``typing``; ``Packet`` is loaded on first use): under
``python -m schnitzel_stream`` the package is imported while the current directory is still
first on ``sys.path``, and ``__main__`` takes it off before anything else is imported.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from schnitzel_stream.packet import Packet

__version__ = "0.1.0"
__all__ = ["Packet", "__version__"]


def __getattr__(name: str) -> object:
    if name == "Packet":
        from schnitzel_stream.packet import Packet

        return Packet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
