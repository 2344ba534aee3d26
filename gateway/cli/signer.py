"""``pjgw signer``: make and inspect the keys notaries and relayers sign with.

``new-keystore FILE`` writes a fresh secp256k1 key as an Ethereum keystore v3
file (mode 0600; the password from ``PJGW_KEYSTORE_PASSWORD``), ``generate-hsm
URI`` generates a key pair INSIDE a PKCS#11 token (it never leaves it), and
``address REF`` opens any signer reference and prints its address and public
key: what goes into a bridge's committee or gets funded. No command ever
prints a key or a password.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from core.errors import PjgwError

signer_app = typer.Typer(help="Signer keys: keystore files and HSM keys.", no_args_is_help=True)

SCHEME_HELP = "secp256k1 (notaries, EVM relayers) or p256"


def _fail(err: PjgwError) -> typer.Exit:
    typer.echo(f"pjgw signer: {err}", err=True)
    return typer.Exit(2)


def _show(signer: object) -> None:
    from core.seams import SECP256K1, Signer
    from proofs.hashing import keccak256

    assert isinstance(signer, Signer)
    if signer.scheme == SECP256K1:
        typer.echo(f"address 0x{keccak256(signer.public_key[1:])[12:].hex()}")
    typer.echo(f"public key 0x{signer.public_key.hex()} ({signer.scheme}, {signer.label})")


@signer_app.command("new-keystore")
def new_keystore(
    path: Annotated[Path, typer.Argument(help="The keystore file to create (never overwritten)")],
    scrypt_n: Annotated[int, typer.Option(help="scrypt cost (2^15 by default)")] = 2**15,
) -> None:
    """A fresh secp256k1 key in an encrypted keystore file; prints its address."""
    from adapters.signers.keystore_files import open_key_file, write_v3

    password = os.environ.get("PJGW_KEYSTORE_PASSWORD", "")
    if not password:
        typer.echo("pjgw signer: set PJGW_KEYSTORE_PASSWORD (the file's password)", err=True)
        raise typer.Exit(2)
    if path.exists():
        typer.echo(f"pjgw signer: {path} exists; keys are never overwritten", err=True)
        raise typer.Exit(2)
    write_v3(path, secrets.token_bytes(32), password, path.stem, scrypt_n=scrypt_n)
    try:
        _show(open_key_file(path, password))
    except PjgwError as err:
        raise _fail(err) from None
    typer.echo(f"signer reference: keystore:{path}")


@signer_app.command("generate-hsm")
def generate_hsm(
    uri: Annotated[str, typer.Argument(help="pkcs11:token=…;object=<new label>?module-path=…")],
    scheme: Annotated[str, typer.Option(help=SCHEME_HELP)] = "secp256k1",
) -> None:
    """Generate a key pair inside a PKCS#11 token; prints its address and public key."""
    from adapters.signers import open_signer
    from adapters.signers.pkcs11 import Pkcs11Signer, TokenKey, generate_key
    from adapters.signers.refs import token_key

    try:
        where: TokenKey = token_key(uri)
        generate_key(where, scheme)
        signer = open_signer(uri, scheme)
        _show(signer)
        if isinstance(signer, Pkcs11Signer):
            signer.close()
    except PjgwError as err:
        raise _fail(err) from None


@signer_app.command("address")
def address(
    ref: Annotated[str, typer.Argument(help="keystore:<file>, pkcs11:<URI> or file:<path>")],
    scheme: Annotated[str, typer.Option(help=SCHEME_HELP)] = "secp256k1",
    insecure_plaintext_key: Annotated[
        bool, typer.Option(help="Allow a file: reference (a plaintext key): development only")
    ] = False,
) -> None:
    """Open a signer reference and print its address and public key (never the key)."""
    from adapters.signers import open_signer

    try:
        _show(open_signer(ref, scheme, insecure_plaintext=insecure_plaintext_key))
    except PjgwError as err:
        raise _fail(err) from None


__all__ = ["signer_app"]
