"""adapters.sdk: the seam version rule, finding a family's settings model, safe validation."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr

from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.sdk import SEAM_VERSION, check_seam_version, settings_model_of, validate_settings
from core.errors import ConfigError


class Options(BaseModel):
    url: str
    key: SecretStr


class Declared:
    settings_model = Options


class Annotated:
    def __init__(self, settings: Options | None = None) -> None:
        self.settings = settings


class Unnamed:
    def __init__(self, url: str) -> None:
        self.url = url


class Version:
    def __init__(self, version: object) -> None:
        self.seam_version = version


@pytest.mark.parametrize(
    ("adapter", "model"),
    [
        (Declared, Options),
        (Annotated, Options),
        (PujiangAdapter, PujiangSettings),
        (Unnamed, None),
        (object, None),
    ],
)
def test_settings_model_of_reads_the_attribute_or_the_settings_annotation(
    adapter: type, model: type | None
) -> None:
    assert settings_model_of(adapter) is model


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        (SEAM_VERSION, None),
        ("2.99", None),
        ("3.0", "built for seam version 3.0"),
        ("1.0", "built for seam version 1.0"),
        ("1", "must be 'MAJOR.MINOR'"),
        ("1.0.0", "must be 'MAJOR.MINOR'"),
        (1.0, "must be 'MAJOR.MINOR'"),
    ],
)
def test_check_seam_version_accepts_the_same_major_only(
    declared: object, problem: str | None
) -> None:
    result = check_seam_version(Version(declared))
    assert (result is None) if problem is None else (problem in (result or ""))


def test_an_adapter_without_seam_version_is_accepted_as_pre_sdk() -> None:
    assert check_seam_version(Unnamed) is None


def test_validate_settings_names_bad_fields_and_never_their_values() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_settings(Options, {"url": 5, "key": ["s3cret-key"], "extra": 1}, family="lake")
    text = str(raised.value)
    assert "invalid lake chain options" in text
    assert "url:" in text
    assert "key:" in text
    assert "s3cret-key" not in text
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
