"""Stages (DESIGN §10): stage records and who may use them, which stage a request reads and
writes, and what a read in it sees.

:mod:`trovato.stages.service` holds the records (create, edit, archive, delete), the access
rule, the active stage of a request and the chain a read in a stage sees. Writing, reading,
diffing and publishing the *content* of a stage is the content service's
(:mod:`trovato.content.staging`). The name of the live stage is :data:`LIVE`, defined here and
nowhere else.
"""

from trovato.stages.service import (
    ADMINISTER_STAGES,
    CHANNEL,
    LIVE,
    OPEN,
    PUBLISH_STAGES,
    USE_STAGES,
    VIEW_STAGES,
    StageError,
    StageRecord,
    Stages,
    StageView,
    is_live,
    no_such_stage,
    stage_condition,
    stage_params,
)

__all__ = [
    "ADMINISTER_STAGES",
    "CHANNEL",
    "LIVE",
    "OPEN",
    "PUBLISH_STAGES",
    "USE_STAGES",
    "VIEW_STAGES",
    "StageError",
    "StageRecord",
    "StageView",
    "Stages",
    "is_live",
    "no_such_stage",
    "stage_condition",
    "stage_params",
]
