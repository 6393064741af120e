"""schnitzel-stream: stream-processing graphs at the edge, cameras in, events out.

The public surface is the CLI, the graph format, the node contract
(:mod:`schnitzel_stream.nodes.base`), the packet record and the published schemas.
Everything else is internal and may change.
"""

from schnitzel_stream.packet import Packet

__version__ = "0.1.0"
__all__ = ["Packet", "__version__"]
