"""Work on the closed store file: the ``prepare`` steps of a :class:`~desktop.core.context.Reopen`.

Each factory returns a function that the app runs on a worker thread after it has closed
the window and the store (:func:`desktop.shell.app.prepare_store`), and that returns a sentence
for the teacher: :func:`encrypt_store` and :func:`decrypt_store`
(:mod:`sync.store.storefile`), :func:`sign_out_store`
(:func:`sync.replication.login.sign_out`). No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["decrypt_store", "encrypt_store", "sign_out_store"]


def _plain_backups(path: Path) -> int:
    from sync.store.storefile import is_encrypted

    folder = path.parent / "backups"
    return sum(1 for f in folder.glob("*.sqlite3") if not is_encrypted(f)) if folder.is_dir() else 0


def encrypt_store(key: str | None) -> Callable[[Path], str]:
    """A :attr:`Reopen.prepare` that encrypts the closed store (key to the keyring when
    ``key`` is None, else the teacher's passphrase)."""

    def run(path: Path) -> str:
        from sync.store.storefile import encrypt

        encrypt(path, key=key)
        text = "The Flourish data on this laptop is now encrypted."
        if key is not None:
            text += " Flourish asks for your passphrase each time it starts."
        old = _plain_backups(path)
        if old:
            text += (
                f"\n\n{old} older backup file(s) in {path.parent / 'backups'} were made "
                "before and are not encrypted; delete them if they must not stay readable."
            )
        return text

    return run


def decrypt_store(key: str | None) -> Callable[[Path], str]:
    """A :attr:`Reopen.prepare` that turns the closed store back into a plain file."""

    def run(path: Path) -> str:
        from sync.store.storefile import decrypt

        decrypt(path, key=key)
        return "The Flourish data on this laptop is no longer encrypted."

    return run


def sign_out_store(*, force: bool, key: str | None) -> Callable[[Path], str]:
    """A :attr:`Reopen.prepare` that signs out: the store, its backups and secrets go."""

    def run(path: Path) -> str:
        from sync.replication.login import sign_out

        discarded = sign_out(path, force=force, key=key)
        text = "Signed out: Flourish's data, backups and saved passwords on this laptop are gone."
        if discarded:
            text += f" {discarded} change(s) that had not reached the server were discarded."
        return text

    return run
