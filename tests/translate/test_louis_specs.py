"""The liblouis engine against the UEB rulebook cases taken from liblouis's own test suite."""

import json
from collections import defaultdict

import pytest

from braillejobs.translate.registry import get_engine
from tests.support import SPECS

# Measured with liblouis 3.24.0 (Debian bookworm). 232 cases are marked xfail by liblouis
# itself; 2 of them pass anyway. 40 mismatches are not marked xfail: 39 from en-ueb.yaml, mostly
# numbers grouped with no-break spaces (U+00A0), which the rulebook writes with the numeric space
# (dots 5) and liblouis 3.24 renders as a blank cell and a new numeric indicator, and 1 from the
# symbols harness. The figure (2,443) is what we measure. A different number means the
# tables changed.
EXPECTED_MATCHES = 2443
EXPECTED_XFAIL_MATCHES = 2


def test_liblouis_matches_pinned_count_of_rulebook_cases():
    if not SPECS.exists():
        pytest.fail(f"{SPECS.name} not found next to the repository (../shared/data/)")
    cases = [json.loads(line) for line in SPECS.open(encoding="utf-8")]
    assert len(cases) == 2713
    by_table = defaultdict(list)
    for case in cases:
        by_table[case["table"]].append(case)
    matches = xfail_matches = 0
    for table, group in by_table.items():
        engine = get_engine("louis", table)
        out = engine.translate_lines([c["input"] for c in group])
        for case, tr in zip(group, out):
            if tr.braille == case["expected"]:
                matches += 1
                xfail_matches += case["xfail"]
            assert tr.chars_by_engine == ({"louis": len(case["input"])} if case["input"] else {})
    assert (matches, xfail_matches) == (EXPECTED_MATCHES, EXPECTED_XFAIL_MATCHES)
