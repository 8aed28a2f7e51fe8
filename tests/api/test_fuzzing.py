"""API fuzzing: schemathesis sends generated requests to every operation of the OpenAPI
schema, as a signed-in admin of a real organization; no answer may be a server error or
break the schema. Bounded (a few examples per operation) so it runs in CI."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

# Django compares the CSRF header with the cookie's secret; any matching pair will do.
CSRF = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"


@pytest.fixture
def api_schema(transactional_db: None, org: Any, channel: Any) -> Any:
    """The live OpenAPI schema of the in-process app (real requests close the connection
    after each answer, so the data is committed rather than kept in one test transaction)."""
    from earful.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def session(owner: Any) -> dict[str, Any]:
    """Cookies and headers of a signed-in admin of 'acme'."""
    client = Client()
    client.force_login(owner)
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF},
        "headers": {"X-CSRFToken": CSRF, "Referer": "http://localhost/"},
    }


SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


@pytest.mark.slow
def test_no_operation_answers_with_a_server_error(api_schema: Any, session: dict[str, Any]) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:

        @SETTINGS
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            if case.path_parameters and "org" in case.path_parameters:
                # Mostly our own organization, so the generated input reaches the services.
                case.path_parameters["org"] = "acme"
            case.call_and_validate(
                cookies=session["cookies"],
                headers={**session["headers"], "Host": "localhost"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            call()
        except Exception as exc:  # every operation is tried; all failures are reported
            failures[operation.label] = str(exc)[:2000]

    assert len(operations) > 20
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())
