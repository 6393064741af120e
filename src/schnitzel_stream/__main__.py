"""``python -m schnitzel_stream``: the runtime contract entry point."""

import sys

from schnitzel_stream.cli.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
