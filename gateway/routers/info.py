"""What this hub is running: version and the verification backends in use."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from proofs import bls
from proofs.hashing import hash_function_names

router = APIRouter(prefix="/v1", tags=["info"])


def project_version() -> str:
    try:
        return version("pujiang-gateway")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


@router.get("/info")
async def info() -> dict[str, object]:
    backend = bls.current_backend()
    return {
        "name": "pujiang-gateway",
        "version": project_version(),
        "bls_backend": backend.name,
        "bls_backend_is_fast": backend.is_fast,
        "hash_functions": list(hash_function_names()),
    }
