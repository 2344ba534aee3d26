"""The API's request and response bodies (pydantic v2), one module per resource.

Requests forbid unknown fields and carry every bound explicitly; responses
never hold secrets (chain settings are redacted, keys are never echoed).
"""
