"""Gather (DESIGN §9): declarative listings — definitions (:mod:`~trovato.gather.definition`)
compiled to one SQL statement over the item query path's rules
(:mod:`~trovato.gather.compiler`), stored, cached and run by :mod:`~trovato.gather.service`.
"""

from trovato.gather.definition import Definition, GatherError
from trovato.gather.service import ADMINISTER_GATHER, FRONT_PAGE, Gather, GatherResult, Stored

__all__ = ["ADMINISTER_GATHER", "FRONT_PAGE", "Definition", "Gather", "GatherError",
           "GatherResult", "Stored"]
