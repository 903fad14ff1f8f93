"""Files (DESIGN §12): managed uploads — validation (:mod:`~trovato.files.names`,
:mod:`~trovato.files.sniff`), storage (:mod:`~trovato.files.storage`, local or
:mod:`~trovato.files.s3`), the records, their usage by items and cleanup
(:mod:`~trovato.files.service`), image styles and their derivatives
(:mod:`~trovato.files.styles`, :mod:`~trovato.files.images`), and how an item's reference to a
file is checked (:mod:`~trovato.files.references`)."""
