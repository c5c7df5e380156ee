"""What GeoReport v2 shows: services, service definitions (attributes), service requests.

Everything here is for anonymous readers: the complainant's name, phone, email and ids are
left out, the address masked, the location rounded to about 100 m, and phone and ID-card
numbers in free text masked (条例 Art. 8).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.engine import access
from hotline.engine.definition import Category, Definition, FieldSpec
from hotline.persistence.open311 import Request

SPEC = "http://wiki.open311.org/GeoReport_v2"
URGENCY = "urgency"  # the one attribute every service has: the definition's urgencies
# Open311 datatypes for the definition's field types.
DATATYPES = {
    "str": "string",
    "text": "text",
    "int": "number",
    "float": "number",
    "datetime": "datetime",
    "duration": "string",
    "bool": "singlevaluelist",
    "enum": "singlevaluelist",
    "list": "multivaluelist",
}
# An ID-card number (18 characters, the last may be X), or a run of 7+ digits, single spaces
# or hyphens between them allowed: a phone number however it is written.


def services(definition: Definition) -> list[dict[str, Any]]:
    """The service list: one service per category of the definition."""
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.name,
            "metadata": bool(attributes(definition, c)),
            "type": "realtime",
            "keywords": c.kind,
            "group": c.kind,
        }
        for c in definition.categories
    ]


def service_definition(definition: Definition, category: Category) -> dict[str, Any]:
    return {"service_code": category.code, "attributes": attributes(definition, category)}


def attributes(definition: Definition, category: Category) -> list[dict[str, Any]]:
    """The intake's urgency (when the definition knows more than one), then the category's
    declared fields, in the spec's attribute shape."""
    found = []
    if len(definition.urgencies) > 1:
        urgency = FieldSpec(type="enum", values=definition.urgencies, description="urgency")
        found.append((URGENCY, urgency))
    found += list(category.fields.items())
    return [_attribute(code, spec, order) for order, (code, spec) in enumerate(found, 1)]


def attribute_codes(definition: Definition, category: Category) -> list[str]:
    return [a["code"] for a in attributes(definition, category)]


def _attribute(code: str, spec: FieldSpec, order: int) -> dict[str, Any]:
    values = ("true", "false") if spec.type == "bool" else spec.values
    datatype = DATATYPES[spec.type]
    if spec.type == "list" and not values:
        datatype = "string"  # a free list: comma-separated codes
    described = {"duration": "a duration such as 2h or 3d", "list": "comma-separated"}
    return {
        "variable": True,
        "code": code,
        "datatype": datatype,
        "required": spec.required,
        "datatype_description": described.get(spec.type),
        "order": order,
        "description": spec.description or code,
        "values": [{"key": v, "name": v} for v in values],
    }


def request(definition: Definition, found: Request) -> dict[str, Any]:
    """One service request as an anonymous reader may see it."""
    t = found.ticket
    category = definition.category(t.category)
    unit = definition.unit(t.lead_unit) if t.lead_unit else None
    notes = next((t.fields[f] for f in definition.public_notes if t.fields.get(f)), None)
    return {
        "service_request_id": str(t.id),
        "status": "closed" if t.state == definition.final else "open",
        "status_notes": access.mask_text(f"{t.state}: {notes}" if notes else t.state),
        "service_name": category.name if category else t.category,
        "service_code": t.category,
        "description": access.mask_text(t.summary),
        "agency_responsible": unit.name if unit else t.lead_unit,
        "service_notice": "",
        "requested_datetime": _time(t.created_at),
        "updated_datetime": _time(t.updated_at),
        "expected_datetime": _time(found.expected),
        "address": access.mask("address", found.address),
        "address_id": t.fields.get("address_id"),
        "zipcode": None,
        "lat": _rounded(t.fields.get("lat")),
        "long": _rounded(t.fields.get("long")),
        "media_url": t.fields.get("media_url"),
    }


def discovery(base_url: str, changeset: str, contact: str) -> dict[str, Any]:
    endpoint = {
        "specification": SPEC,
        "url": base_url.rstrip("/") + "/open311/v2",
        "changeset": changeset,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": "ask the hotline centre for an API token (hotline token create)",
        "endpoints": [endpoint],
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _rounded(value: Any) -> float | None:
    return round(value, 3) if isinstance(value, int | float) else None
