"""The JSON API v1 under ``/api/v1/``: one module per resource and the OpenAPI document.

Thin like ``web/``: parse and validate the request, call the same services the HTML routes call,
answer JSON (errors as RFC 9457 problem+json).
"""
