"""Search-space entries shared by the baselines, so that equal knobs get equal ranges."""

from __future__ import annotations

from gbench.models import Categorical, Float, LogFloat

OPTIM = {
    "lr": LogFloat(1e-3, 5e-2, default=1e-2),
    "weight_decay": LogFloat(1e-6, 1e-2, default=5e-4),
}
HIDDEN = Categorical((32, 64, 128, 256), default=64)
DROPOUT = Float(0.0, 0.8, default=0.5)
