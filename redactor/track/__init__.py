"""Keeps masks on faces and plates between detections.

`Tracker` follows one live stream frame by frame; `track_clip` tracks a whole
clip forward and backward for exports (look-ahead and subject access).
"""

from redactor.track.clip import track_clip
from redactor.track.tracker import TrackedFrame, Tracker, TrackerParams

__all__ = ["TrackedFrame", "Tracker", "TrackerParams", "track_clip"]
