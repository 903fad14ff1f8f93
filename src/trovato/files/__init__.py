"""Files (DESIGN §12): managed uploads — validation (:mod:`~trovato.files.names`,
:mod:`~trovato.files.sniff`), storage (:mod:`~trovato.files.storage`), the records, their
usage by items and cleanup (:mod:`~trovato.files.service`), and how an item's reference to a
file is checked (:mod:`~trovato.files.references`)."""
