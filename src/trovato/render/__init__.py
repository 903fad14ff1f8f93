"""Rendering: render elements as data, the sanitizer for untrusted trees, text formats, the
Jinja2 theme engine and kernel templates. Imports no service and never touches the database."""
