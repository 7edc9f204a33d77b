"""The first rule as a lint: no module but an ``actions.py`` writes models.

A runtime guard (``ProtectedModel``) already refuses such writes; this lint finds them
before they run, in code paths no test reaches. Like Zulip's custom lint rules, it carries
its own good and bad examples, tested below, so the rule itself cannot silently rot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]

# Methods that write when called on a model instance.
INSTANCE_WRITES = {"save", "delete"}
# Methods that write when called on a manager or queryset.
QUERYSET_WRITES = {
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
QUERYSET_MARKERS = {"objects", "filter", "exclude", "all", "select_for_update", "visible_to"}
# Receivers that have a save()/delete() and are not models.
NOT_MODELS = {"session", "cache", "storage", "default_storage", "response", "wb", "workbook"}
# An API router's .delete()/.patch() are HTTP-method decorators, not writes.
NOT_MODELS |= {"router", "api"}
# Libraries whose objects save to files (a QR code, a spreadsheet), not to the database.
NOT_MODEL_ROOTS = {"segno", "openpyxl", "io"}


def _chain(node: ast.AST) -> list[str]:
    """Names along an attribute/call chain, outermost last: a.b.c() -> [a, b, c]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            break
        else:
            break
    return list(reversed(names))


def writes_in(source: str) -> list[tuple[int, str]]:
    """(line, call) for every model write in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method = node.func.attr
        receiver = _chain(node.func.value)
        if not receiver or receiver[-1] in NOT_MODELS or receiver[0] in NOT_MODEL_ROOTS:
            continue
        on_queryset = bool(QUERYSET_MARKERS.intersection(receiver))
        writes = QUERYSET_WRITES if on_queryset else INSTANCE_WRITES
        if method in writes:
            found.append((node.lineno, ".".join([*receiver, method])))
    return found


BAD_EXAMPLES = [
    "agency.save()",
    "Agency.objects.create(name='x')",
    "Agency.objects.filter(pk=1).update(name='y')",
    "profile.delete()",
    "StaffRole.objects.bulk_create(rows)",
    "Agency.objects.visible_to(actor).filter(pk=1).delete()",
]
GOOD_EXAMPLES = [
    "request.session.save()",
    "create_agency(actor=actor, name='x')",
    "values.update(other)",
    "form.cleaned_data.get('name')",
    "Agency.objects.filter(pk=1).exists()",
    "segno.make(uri).save(buffer, kind='svg')",
    "router.delete('/items/{pk}')",
]


@pytest.mark.parametrize("source", BAD_EXAMPLES)
def test_it_catches_a_write(source):
    assert writes_in(source)


@pytest.mark.parametrize("source", GOOD_EXAMPLES)
def test_it_leaves_a_non_write_alone(source):
    assert writes_in(source) == []


def _checked_modules() -> list[Path]:
    skip_parts = {"migrations", "tests"}
    modules = []
    for path in SRC.rglob("*.py"):
        if skip_parts.intersection(path.parts) or path.name in {"actions.py", "testing.py"}:
            continue
        modules.append(path)
    return modules


def test_it_finds_no_model_write_outside_actions():
    offenders = []
    for path in _checked_modules():
        for line, call in writes_in(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(SRC)}:{line}: {call}")
    # chain.py is the audit log's own append path (append-only, not a protected model); a
    # model's own method may save itself, since the runtime guard still requires an action.
    offenders = [
        o
        for o in offenders
        if not o.startswith(("audit/chain.py", "audit/models.py"))
        and not ("models.py:" in o and o.endswith((": self.save", ": super.save")))
    ]
    assert offenders == [], "Model writes outside actions.py:\n" + "\n".join(offenders)
