"""legacy: a plugin as the 1.0.0 SDK built it, for the contract compatibility test.

It is built against the 1.0.0 WIT kept beside it (so its component imports
``trovato:plugin/host@1.0.0``) and says so in ``describe()``, as every plugin built before
contract 1.1.0 does; the kernel must keep loading and serving it.
"""

from trovato_sdk import _runtime

_runtime.CONTRACT = "1.0.0"  # what the 1.0.0 SDK reported


def whoami(payload, ctx):
    """A call through 1.0.0 host imports: the user and an item read."""
    return {"user": ctx.user.name, "item": ctx.items.load(payload["id"]) is not None}
