"""Graph snippets several CLI tests share."""

from __future__ import annotations

__all__ = ["paced_camera"]


def paced_camera(camera: str = "cam", motion: str = "motion", fps: int = 30) -> str:
    """YAML node entries (two-space list items): a synthetic camera paced in real time whose box
    crosses the view every 40 frames, forever, and a motion detector that sees it."""
    return f"""  - id: {camera}
    kind: source
    plugin: synthetic_camera
    config:
      width: 320
      height: 180
      fps: {fps}
      frames: 0
      realtime: true
      loop: 40
      objects: [{{id: box, x: 0, y: 60, w: 40, h: 40, dx: 6, dy: 0, enter: 1, exit: 40, color: [0, 0, 255]}}]
  - {{id: {motion}, kind: node, plugin: motion_detector}}
"""
