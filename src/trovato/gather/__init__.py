"""Gather (DESIGN §9): declarative listings — definitions (:mod:`~trovato.gather.definition`)
compiled to one SQL statement over the item query path's rules
(:mod:`~trovato.gather.compiler`), stored by :mod:`~trovato.gather.storage`, cached and run by
:mod:`~trovato.gather.service`.
"""

from trovato.gather.definition import Definition, GatherError
from trovato.gather.results import GatherResult
from trovato.gather.service import Gather
from trovato.gather.storage import ADMINISTER_GATHER, FRONT_PAGE, Stored

__all__ = ["ADMINISTER_GATHER", "FRONT_PAGE", "Definition", "Gather", "GatherError",
           "GatherResult", "Stored"]
