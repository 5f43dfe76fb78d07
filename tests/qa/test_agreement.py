"""Fleiss' kappa against the published worked example, and percent agreement."""

import pytest

from qa.agreement import fleiss_kappa, percent_agreement

# The worked example of Fleiss' kappa (Wikipedia, "Fleiss' kappa", Worked example): 10 subjects,
# 14 raters each, 5 categories; P̄ = 0.378, P̄e = 0.213, κ = 0.210.
WORKED = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def _rows(table):
    return [{f"c{j}": n for j, n in enumerate(row) if n} for row in table]


def test_kappa_matches_the_worked_example():
    assert fleiss_kappa(_rows(WORKED)) == pytest.approx(0.210, abs=0.0005)


def test_per_subject_agreement_matches_the_worked_example():
    # P_2 = (2·1 + 6·5 + 4·3 + 2·1) / (14·13) = 46/182 = 0.253
    assert percent_agreement(_rows(WORKED)[1]) == pytest.approx(0.2527, abs=0.0001)
    assert percent_agreement(_rows(WORKED)[0]) == 1.0


def test_edge_cases():
    assert fleiss_kappa([]) is None
    assert fleiss_kappa([{"a": 1}]) is None  # one rating compares nothing
    assert fleiss_kappa([{"a": 3}, {"a": 3}]) == 1.0  # everyone always agrees
    assert fleiss_kappa([{"a": 1, "b": 1}, {"a": 1, "b": 1}]) == -1.0  # pairs always split
    assert percent_agreement({"a": 1}) is None
