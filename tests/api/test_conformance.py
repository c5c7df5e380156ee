"""Schemathesis over every operation of the OpenAPI document, on SQLite and PostgreSQL, as an
operator, as a unit and as a role each route allows: no server error, and every response
(failed ones too) conforms to the document (status, content type, headers, body schema).

Schemathesis's pytest plugin does not run under pytest 9, so its strategies are driven with
hypothesis directly. ``HOTLINE_FUZZ_EXAMPLES`` raises the number of examples per operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from hotline.api.auth import api_routes, policy_of
from hotline.engine.access import Role

EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "4"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def allowed_role(app, auth):
    """Headers of a role each operation allows, so generated requests get past the policy."""
    roles = {}
    for route in api_routes(app.routes):
        allowed = policy_of(route).roles
        role = next((r for r in Role if allowed is None or r in allowed), Role.OPERATOR)
        for method in route.methods:
            roles[(method, route.path)] = auth[role.value]
    return lambda case: roles[(case.method.upper(), case.path)]


@pytest.mark.parametrize("caller", ["allowed", "operator", "unit"])
def test_every_operation_conforms_and_never_fails(app, auth, submit, allowed_role, caller):
    # Given a ticket to find and the app's own OpenAPI document
    submit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    headers = allowed_role if caller == "allowed" else (lambda case: auth[caller])

    # When generated requests are sent to every operation
    for operation in operations:
        # Valid requests and invalid ones (wrong types, out-of-range ids and dates …)
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case):
            response = case.call(headers=headers(case))
            # Then no answer is a server error and each is what the document says
            case.validate_response(response, checks=CHECKS)

        conforms()
