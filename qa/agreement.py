"""Agreement statistics for calibration: per-subject percent agreement and Fleiss' kappa.

Each row is one subject (a case): a mapping of category → how many raters chose it. Fleiss'
kappa (Fleiss 1971) assumes every subject has the same number of raters; with unequal numbers
the per-subject agreement P_i uses that subject's own n_i and the category shares p_j are
pooled over all ratings, which reduces to Fleiss' formula when the n_i are equal.
"""

from collections.abc import Iterable, Mapping


def percent_agreement(counts: Mapping[str, int]) -> float | None:
    """P_i: the share of rater pairs on this subject that agree (None with fewer than 2 raters)."""
    n = sum(counts.values())
    if n < 2:
        return None
    return round(sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)), 4)


def fleiss_kappa(rows: Iterable[Mapping[str, int]]) -> float | None:
    """κ = (P̄ − P̄e) / (1 − P̄e) over the subjects with at least two ratings.

    None when there is nothing to compare; 1.0 when every rating falls in one category (P̄e = 1,
    where the formula is 0/0 and agreement is perfect)."""
    rows = [r for r in rows if sum(r.values()) >= 2]
    if not rows:
        return None
    totals: dict[str, int] = {}
    for r in rows:
        for category, c in r.items():
            totals[category] = totals.get(category, 0) + c
    ratings = sum(totals.values())
    p_bar = sum(percent_agreement_exact(r) for r in rows) / len(rows)
    p_e = sum((t / ratings) ** 2 for t in totals.values())
    if p_e >= 1:
        return 1.0
    return round((p_bar - p_e) / (1 - p_e), 4)


def percent_agreement_exact(counts: Mapping[str, int]) -> float:
    n = sum(counts.values())
    return sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
