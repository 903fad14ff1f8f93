"""``trovato user create|delete``."""

from __future__ import annotations

import asyncio
import sys

import typer

from trovato.cli import _output
from trovato.cli._runtime import database_url, migrate_with_progress
from trovato.kernel.services import Kernel
from trovato.settings import Settings, load_settings
from trovato.users.accounts import AccountDeleteError, AccountError, DeletedUser

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="The user name (login)."),
    mail: str = typer.Option(..., "--mail", help="The e-mail address."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    admin: bool = typer.Option(False, "--admin", help="Make the account an administrator."),
) -> None:
    """Create an active account (such as the first administrator)."""
    if not password_stdin:
        raise _output.fail("pass the password on stdin with --password-stdin", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        try:
            user_id = asyncio.run(_create(settings, url, name, mail, password, admin))
        except AccountError as exc:
            raise _output.fail(f"{exc.field}: {exc.message}") from None
    _output.result(f"Created {'administrator' if admin else 'user'} {name} ({user_id}).")


async def _create(
    settings: Settings, url: str, name: str, mail: str, password: str, admin: bool
) -> str:
    kernel = await Kernel.start(settings, url)
    try:
        return str(
            await kernel.accounts.create(name=name, mail=mail, password=password, is_admin=admin)
        )
    finally:
        await kernel.stop()


@app.command()
def delete(
    user: str = typer.Argument(..., help="The user name or id."),
    yes: bool = typer.Option(False, "--yes", help="Delete without asking."),
) -> None:
    """Delete an account.

    Its content goes to Anonymous and its API tokens are revoked. The
    anonymous user and the last administrator cannot be deleted; a
    plugin's user_delete tap may refuse (then nothing changes).
    """
    if not yes and not typer.confirm(
        f"Delete the account {user}? Its content is reassigned to Anonymous.", default=False
    ):
        raise _output.fail("not confirmed (pass --yes in scripts)")
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        try:
            deleted = asyncio.run(_delete(settings, url, user))
        except AccountDeleteError as exc:
            raise _output.fail(exc.message) from None
    _output.result(f"Deleted {deleted.name} ({deleted.id}); {len(deleted.reassigned_items)} "
               f"item(s) reassigned to Anonymous, {deleted.tokens_revoked} API token(s) "
               f"revoked.")


async def _delete(settings: Settings, url: str, ref: str) -> DeletedUser:
    kernel = await Kernel.start(settings, url)
    try:
        user_id = await kernel.accounts.find(ref)
        if user_id is None:
            raise AccountDeleteError(404, f"no user {ref!r}")
        deleted = await kernel.accounts.delete(user_id)
        if deleted.reassigned_items:
            await kernel.page_cache.invalidate(
                [f"item:{item_id}" for item_id in deleted.reassigned_items])
        return deleted
    finally:
        await kernel.stop()
