"""Command fields: each trigger's declared fields compiled into a pydantic model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic import create_model as _create_model

from hotline.engine.definition import Duration, FieldSpec
from hotline.errors import InvalidField, MissingField


def _split_commas(value: object) -> object:
    # The CLI passes lists as "a,b"; JSON callers pass real lists.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_TYPES: dict[str, Any] = {
    "str": str,
    "text": str,
    "int": int,
    "float": float,
    "bool": bool,
    "datetime": AwareDatetime,
    "list": Annotated[list[str], BeforeValidator(_split_commas)],
    "duration": Duration,
    "ticket": Annotated[int, Field(gt=0)],
}


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_min_length=1)


def _annotation(spec: FieldSpec) -> Any:
    if spec.type == "enum":
        return Literal[spec.values]  # type: ignore[valid-type]
    return _TYPES[spec.type]


def compile_fields(name: str, specs: Mapping[str, FieldSpec]) -> type[BaseModel]:
    """A pydantic model that validates the fields of one trigger."""
    declared: dict[str, Any] = {
        field: (_annotation(spec), ...) if spec.required else (_annotation(spec) | None, None)
        for field, spec in specs.items()
    }
    return _create_model(f"{name}_fields", __base__=_Fields, **declared)


def validate(trigger: str, model: type[BaseModel], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against ``model``; return JSON-ready values or raise a CommandError."""
    try:
        parsed = model.model_validate(dict(raw))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or trigger
        if first["type"] == "missing":
            raise MissingField(trigger, field) from None
        if first["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields) or "none"
            raise InvalidField(
                field, f"{trigger!r} has no such field; its fields: {known}"
            ) from None
        raise InvalidField(field, first["msg"]) from None
    return parsed.model_dump(mode="json", exclude_none=True)
