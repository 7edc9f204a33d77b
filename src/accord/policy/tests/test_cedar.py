from __future__ import annotations

from typing import Any

import cedarpy
import pytest

from accord.policy.cedar import (
    SCHEMA,
    ConsentRequirement,
    TermSpec,
    base_policy_text,
    cedar_string,
    compile_policy_set,
    compile_term,
)


def _term(**overrides):
    values: dict[str, Any] = {
        "term_id": 17,
        "agreement_id": 4,
        "version_id": 9,
        "reference": "MOU 2026-04",
        "version_number": 2,
        "clause": "3.2",
        "discloser_id": 2,
        "discloser_name": "Jail",
        "recipient_id": 1,
        "recipient_name": "Defender",
        "categories": ("custody",),
        "purposes": ("defense_representation",),
        "actions": ("view", "notify"),
    }
    values.update(overrides)
    return TermSpec(**values)


def test_it_validates_the_base_policies_against_the_schema():
    result = cedarpy.validate_policies(base_policy_text(), SCHEMA)
    assert result.validation_passed, result.errors


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"consent": ConsentRequirement.CLIENT, "recipient_role": "attorney"},
        {"consent": ConsentRequirement.PART2, "recipient_attributes": ("part2_program",)},
        {"categories": ("juvenile", "charges"), "reference": 'Odd "ref" \\ name'},
    ],
)
def test_it_validates_every_compiled_term_against_the_schema(overrides):
    text = compile_policy_set([_term(**overrides)])
    result = cedarpy.validate_policies(text, SCHEMA)
    assert result.validation_passed, result.errors


def test_it_names_the_agreement_and_clause_in_the_policy_id():
    text = compile_term(_term())
    assert text.startswith('@id("agreement/MOU 2026-04/v2/§3.2/term-17")')


def test_it_always_compiles_the_in_force_guard_into_a_permit():
    text = compile_term(_term(consent=ConsentRequirement.CLIENT))
    assert 'Accord::Agreement::"9".effective_on <= context.today' in text
    assert 'context.today <= Accord::Agreement::"9".ends_on' in text


def test_it_escapes_strings_the_way_cedar_reads_them():
    assert cedar_string('a"b\\c\nd\x01') == '"a\\"b\\\\c\\nd\\u{1}"'
    parsed = cedarpy.PolicySet.from_str(compile_term(_term(reference='R "1"\n')))
    assert len(parsed) == 1


def test_it_describes_a_term_in_the_words_of_the_agreement():
    words = _term(consent=ConsentRequirement.CLIENT).words()
    assert words.startswith("MOU 2026-04 §3.2: Jail → Defender, custody events, for defense")
    assert "client's consent" in words
