"""Liveness, for load balancers and orchestrators (readiness: ``ready.py``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (it says nothing about chains or the store)."""
    return {"status": "ok"}
