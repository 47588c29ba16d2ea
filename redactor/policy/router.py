"""Who receives the footage decides how it is masked.

A route matches recipient and (optionally) service; the most specific wins.
An unknown recipient gets the strictest policy, never a lenient default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redactor.config import PolicyConfig, PolicyRouting
from redactor.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    name: str
    policy: PolicyConfig
    zones: tuple[npt.NDArray[np.int32], ...]


class PolicyRouter:
    def __init__(self, cfg: PolicyRouting) -> None:
        self.cfg = cfg
        self._zones: dict[str, tuple[npt.NDArray[np.int32], ...]] = {}
        for z in cfg.zones:
            poly = np.asarray(z.polygon, np.int32).reshape(-1, 2)
            self._zones[z.camera_id] = (*self._zones.get(z.camera_id, ()), poly)

    def zones_for(self, camera_id: str) -> tuple[npt.NDArray[np.int32], ...]:
        return self._zones.get(camera_id, ())

    def for_recipient(
        self, recipient: str, service: str = "", camera_id: str = ""
    ) -> ResolvedPolicy:
        best = None
        for r in self.cfg.routes:
            if r.recipient != recipient:
                continue
            if r.service and r.service != service:
                continue
            if best is None or (r.service and not best.service):
                best = r
        name = best.policy if best else self.cfg.unknown_recipient_policy
        return ResolvedPolicy(name, self.cfg.policies[name], self.zones_for(camera_id))

    def by_name(self, name: str, camera_id: str = "") -> ResolvedPolicy:
        name = name or self.cfg.default_policy
        if name not in self.cfg.policies:
            raise InvalidInput(
                f"policy must be one of {sorted(self.cfg.policies)} (or empty for "
                f"{self.cfg.default_policy!r}), got {name!r}"
            )
        return ResolvedPolicy(name, self.cfg.policies[name], self.zones_for(camera_id))
