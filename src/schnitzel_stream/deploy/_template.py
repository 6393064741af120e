"""Where the deployment template is: shipped in the wheel, or the source checkout itself.

The wheel carries ``templates/deployment`` as ``schnitzel_stream/_template/templates/
deployment`` (pyproject's ``force-include``), so that ``validate --deployment`` has the
template's answer rules (:mod:`._answers`) and can render the template for a root's answers
(:mod:`._rendered`) on any machine. The layout below ``_template`` is the repository's, so
the templates' own ``{% include 'templates/deployment/...' %}`` paths resolve in both.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["SUBDIRECTORY", "template_root"]

SUBDIRECTORY = "templates/deployment"
_CHECKOUT = Path(__file__).resolve().parents[3]


def template_root() -> Path | None:
    """The directory that holds ``templates/deployment``, or ``None`` when there is none."""
    packaged = Path(str(resources.files("schnitzel_stream").joinpath("_template")))
    for root in (packaged, _CHECKOUT):
        if (root / SUBDIRECTORY / "_partials" / "answers.json").is_file():
            return root
    return None
