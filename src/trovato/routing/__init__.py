"""Routing the kernel's routes do not answer: redirects from old addresses to new ones
(:mod:`trovato.routing.redirects`)."""

from trovato.routing.redirects import Redirect, RedirectError, RedirectPage, Redirects

__all__ = ["Redirect", "RedirectError", "RedirectPage", "Redirects"]
