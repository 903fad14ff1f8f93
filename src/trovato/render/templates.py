"""Jinja2 templates for kernel pages, with autoescaping and compiled templates cached in memory.

Templates are loaded and compiled once per process (``auto_reload`` off), so a request never
reads a template file.
"""

from __future__ import annotations

import time
from typing import Any

from jinja2 import Environment, PackageLoader, Template, select_autoescape

from trovato.observability.profiler import record_render


class Templates:
    def __init__(self, *, site_name: str) -> None:
        self.env = Environment(
            loader=PackageLoader("trovato.render", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
            cache_size=400,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["site_name"] = site_name
        # Jinja's own cache still checks freshness and locks; templates never change while a
        # process runs, so keep the compiled objects in a plain dict.
        self._compiled: dict[str, Template] = {}

    def render(self, name: str, context: dict[str, Any]) -> str:
        started = time.perf_counter()
        try:
            template = self._compiled.get(name)
            if template is None:
                template = self._compiled[name] = self.env.get_template(name)
            return template.render(context)
        finally:
            record_render(time.perf_counter() - started)
