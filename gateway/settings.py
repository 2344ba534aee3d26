"""Hub settings, read from ``PJGW_*`` environment variables (pydantic-settings).

Every bound has an explicit, safe default; secrets are ``SecretStr`` so they
never print. Tests build a ``Settings`` directly and hand it to the app
factory instead of touching the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PJGW_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("var")
    bls_backend: Literal["auto", "py_ecc", "milagro"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (a FastAPI dependency, overridden in tests)."""
    return Settings()
