"""Categories (DESIGN §11): vocabularies and their tags. So far only how a reference to a tag
is resolved (:mod:`trovato.categories.references`); the service arrives with its issue."""
