"""django-ninja names OpenAPI schemas by class name and silently merges two schemas of the
same name, so one app's response shape can replace another's in the document. Names must
be unique across Accord."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

from accord.core.api import api


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_it_has_no_two_api_schemas_of_the_same_name():
    assert api.urls  # every router is registered and its modules imported
    by_name: dict[str, list[str]] = defaultdict(list)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("accord."):
            by_name[cls.__name__].append(cls.__module__)
    clashes = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    assert clashes == {}


def test_it_documents_every_operation_with_its_errors():
    document = api.get_openapi_schema(path_prefix="/api/v1")
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = {str(code) for code in operation["responses"]}
            if not {"401", "403", "422"} <= codes and "calendar/feeds" not in path:
                missing.append(f"{method.upper()} {path}: {sorted(codes)}")
    assert missing == []
