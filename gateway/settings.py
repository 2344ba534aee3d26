"""Hub settings, read from ``PJGW_*`` environment variables (pydantic-settings).

Every bound has an explicit, safe default; secrets are ``SecretStr`` so they
never print. Tests build a ``Settings`` directly and hand it to the app
factory instead of touching the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PJGW_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("var")
    bls_backend: Literal["auto", "py_ecc", "milagro"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line, with transfer, route, chain, request"
    )
    # Store (gateway/store, docs/store.md); a secret: a PostgreSQL URL may hold a password.
    database_url: SecretStr | None = Field(
        None, description="sqlite:///file or postgresql+psycopg://…; default <data_dir>/hub.db"
    )
    # API (gateway/auth.py, gateway/keystore.py; see docs/api.md)
    dev_api_key: SecretStr | None = Field(
        None, description="accepted as an admin key when set (make run); never in production"
    )
    require_read_key: bool = Field(False, description="GET endpoints need an API key too")
    keystore_dir: Path | None = Field(None, description="encrypted managed-account keys")
    keystore_password: SecretStr | None = None
    # The operator dashboard (gateway/ui, gateway/sessions.py; docs/operator-guide.md)
    ui_session_secret: SecretStr | None = Field(
        None, description="seals dashboard session cookies; unset: random per process"
    )
    ui_session_hours: float = Field(
        8.0, gt=0, le=24 * 7, description="a dashboard login lasts this long"
    )
    # Bounds on input and connections (gateway/limits.py, core/http_limits.py; docs/api.md)
    request_body_seconds: float = Field(
        10.0, gt=0, le=600, description="a request body must arrive within this (else 408)"
    )
    request_head_seconds: float = Field(
        10.0, gt=0, le=600, description="a request head must arrive within this (else 408)"
    )
    max_connections: int = Field(
        512, ge=1, le=65535, description="connections served at once; beyond them uvicorn's 503"
    )
    max_connections_per_address: int = Field(
        128, ge=1, le=65535, description="connections open at once from one address (else 429)"
    )
    # Rate limits (gateway/ratelimit.py, gateway/streams.py): token buckets, 0 = no limit
    rate_per_address: float = Field(100.0, ge=0, description="requests/s per client address")
    burst_per_address: int = Field(200, ge=1, description="requests at once per client address")
    rate_per_key: float = Field(500.0, ge=0, description="requests/s per API key")
    burst_per_key: int = Field(1000, ge=1, description="requests at once per API key")
    max_event_streams: int = Field(256, ge=1, le=65535, description="open SSE streams in total")
    max_event_streams_per_address: int = Field(
        16, ge=1, le=65535, description="open SSE streams per client address"
    )

    # The audit log (gateway/audit, docs/supervision.md): the hub's checkpoint key
    audit_key: SecretStr | None = Field(
        None, description="hex secp256k1 secret that signs audit checkpoints (never logged)"
    )
    audit_key_file: Path | None = Field(
        None, description="file holding the audit checkpoint key as hex (0600), if no audit_key"
    )

    # Payload policies (docs/supervision.md): the only commands a scanner rule may run
    policy_scanners: list[str] = Field(
        default_factory=list,
        description="absolute paths of the scanner commands policies may name (JSON list); "
        "empty: no scanner rule can be written",
    )

    def store_url(self) -> str:
        """``database_url``, or the embedded default ``sqlite:///<data_dir>/hub.db``."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (a FastAPI dependency, overridden in tests)."""
    return Settings()
