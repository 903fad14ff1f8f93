"""Stages (DESIGN §10): which stage a request reads and writes, and what a read in it sees.

Only the read side exists so far: :mod:`trovato.stages.service` answers "which stage is active
for this request, and may this user see it" (the request pipeline asks it) and "which rows does
a read in this stage see" (the content query asks it for its stage condition). The name of the
live stage is :data:`LIVE`, defined here and nowhere else.
"""

from trovato.stages.service import (
    LIVE,
    VIEW_STAGES,
    StageError,
    Stages,
    StageView,
    is_live,
    stage_condition,
    stage_params,
)

__all__ = [
    "LIVE",
    "VIEW_STAGES",
    "StageError",
    "StageView",
    "Stages",
    "is_live",
    "stage_condition",
    "stage_params",
]
