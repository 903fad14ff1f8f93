"""Files (DESIGN §12): managed uploads. So far only how a reference to a file is resolved
(:mod:`trovato.files.references`); the service arrives with its issue."""
