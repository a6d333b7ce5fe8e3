"""The API fuzzed from its own OpenAPI document (Schemathesis) against a real service.

A real ``flourish server serve`` process over TLS on the suite's PostgreSQL; every
operation of ``/openapi.json`` gets requests generated from the schema — valid ones and
deliberately invalid ones (wrong types, missing fields, out-of-range numbers, odd strings,
missing or forged credentials). Each answer must be no 5xx, a status code the document
declares, the declared content type, and a body that matches the declared schema. Half of
the cases carry a real device token (and the program's version) so that they reach the
handlers, not just the sign-in and version checks. Bounded to finish well under a minute.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.adapters import HTTPAdapter

from sync.server.admin import add_teacher
from sync.service.app import create_app
from sync.service.db import DbSettings
from tests.support.pgcluster import PgCluster
from tests.support.service import Service, client_headers, service_login_url

PASSWORD = "teacher-pass-123"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def site(
    pg: PgCluster, _template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, str]]:
    """A running service (rates high enough for a fuzzer) and a T001 device token."""
    name = "svc_fuzz"
    admin_url = pg.create_database(name, template=_template)
    add_teacher(admin_url, teacher_id="T001", login="fuzz_one", password=PASSWORD)
    service = Service(
        service_login_url(admin_url),
        tmp_path_factory.mktemp("service"),
        args=("--device-rate", "100000", "--device-burst", "100000"),
    ).start()
    with service.client() as http:
        token = http.post(
            "/v1/login",
            json={"login": "fuzz_one", "password": PASSWORD, "device_name": "fuzzer"},
            headers=client_headers(),
        ).json()["token"]
    yield service, token
    service.stop()
    pg.drop_database(name)


# The service's OpenAPI document, built without a database (the app connects only when it
# starts); test_the_fuzzer_reaches_the_handlers checks that the running service serves it.
DOCUMENT = create_app(DbSettings(url="postgresql://nobody@127.0.0.1/none")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# Sign-in (a deliberately slow password hash) and the long poll (a second per valid wait)
# cost time per request: fewer examples for them keep the whole fuzz under a minute.
SLOW = ["/v1/login", "/v1/sync/wait"]


class _CaAdapter(HTTPAdapter):
    """requests with the test CA (the service's certificate is for 127.0.0.1)."""

    def __init__(self, ca: Path) -> None:
        self.context = ssl.create_default_context(cafile=str(ca))
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def session(site: tuple[Service, str]) -> Iterator[requests.Session]:
    service, _token = site
    with requests.Session() as s:
        s.mount("https://", _CaAdapter(service.tls.ca))
        yield s


_TURNS = itertools.count()  # every other generated request carries a real token


def _waits(query: Any) -> bool:
    """Whether a generated query would make a valid (so long) wait."""
    if not isinstance(query, dict) or "timeout" not in query:
        return True  # the default: 25 s
    try:
        return 1 <= int(str(query["timeout"]).strip()) <= 60
    except ValueError:
        return False


@schema.exclude(path=SLOW).parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_generated_request_as_its_schema_says(
    case: Any, site: tuple[Service, str], session: requests.Session
) -> None:
    _check(case, site, session)


@schema.include(path=SLOW).parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_sign_in_and_the_long_poll_answer_as_their_schema_says(
    case: Any, site: tuple[Service, str], session: requests.Session
) -> None:
    _check(case, site, session)


def _check(case: Any, site: tuple[Service, str], session: requests.Session) -> None:
    service, token = site
    if case.path == "/v1/sync/wait" and _waits(case.query):
        # a valid wait: answered in a second, not in up to a minute
        case.query = {**(case.query or {}), "timeout": 1}
    headers: dict[str, str] = {}
    if case.path.startswith("/v1/") and next(_TURNS) % 2 == 0:
        headers = {"Authorization": f"Bearer {token}", **client_headers()}
    case.call_and_validate(
        base_url=service.url, session=session, headers=headers, checks=CHECKS, timeout=30
    )


def test_the_fuzzer_reaches_the_handlers(site: tuple[Service, str]) -> None:
    """The document declares every route, and a signed-in request gets past the checks
    (so the fuzz above is not only exercising 401s and 426s)."""
    service, token = site
    with service.client() as http:
        served = http.get("/openapi.json").json()
        hello = http.get(
            "/v1/sync/hello", headers={"Authorization": f"Bearer {token}", **client_headers()}
        )
    assert served == DOCUMENT
    assert {
        "/v1/login",
        "/v1/me",
        "/v1/sync/push",
        "/v1/sync/pull/page",
        "/v1/sync/wait",
    } <= set(served["paths"])
    assert hello.status_code == 200
