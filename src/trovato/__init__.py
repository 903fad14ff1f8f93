"""Trovato: Drupal's mental model on PostgreSQL, WebAssembly plugins and a stateless kernel."""

__version__ = "0.1.0"
