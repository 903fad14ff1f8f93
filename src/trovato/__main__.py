"""Allow ``python -m trovato``."""

from trovato.cli import main

main()
