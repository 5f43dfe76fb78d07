"""Priority P0–P3 and the reasons a person reads on the case."""

import pytest

from cases.priority import MAX_RANK_UP, PriorityFacts, assess


def facts(severity=2, name="Hate speech", sources=("user_report",), **kw):
    f = PriorityFacts(severity=severity, category_name=name, sources=set(sources))
    for key, value in kw.items():
        setattr(f, key, value)
    return f


def test_baseline_is_the_category_severity():
    for severity in range(4):
        result = assess(facts(severity=severity, name="X"))
        assert result.priority == severity
        assert result.reasons == [
            f"{['Critical', 'High', 'Medium', 'Low'][severity]} severity category “X”: P{severity} baseline"]


@pytest.mark.parametrize(("change", "reason"), [
    ({"sources": {"user_report", "legal_request"}}, "Legal request from an authority: ranked up to P1"),
    ({"flaggers_in_area": {"Hotline"}},
     "Trusted flagger “Hotline” reporting within its area of expertise (DSA Art. 22): ranked up to P1"),
    ({"max_score": 0.97}, "Classifier score 0.97 (at least 0.90): ranked up to P1"),
    ({"reporters": 5}, "5 distinct reporters (at least 5): ranked up to P1"),
    ({"reach": 250_000}, "Subject reach 250,000 followers (at least 100,000): ranked up to P1"),
])
def test_each_factor_ranks_up_one_level_and_says_why(change, reason):
    result = assess(facts(**change))
    assert result.priority == 1
    assert result.reasons[-1] == reason


@pytest.mark.parametrize("change", [{"max_score": 0.89}, {"reporters": 4}, {"reach": 99_999}])
def test_just_below_a_threshold_changes_nothing(change):
    result = assess(facts(**change))
    assert result.priority == 2 and len(result.reasons) == 1


def test_rank_ups_stop_two_levels_above_the_baseline():
    result = assess(facts(severity=3, name="Spam", sources={"legal_request"}, max_score=0.99, reporters=50,
                          reach=10**6))
    assert result.priority == 3 - MAX_RANK_UP == 1
    assert sum("ranked up" in r for r in result.reasons) == 2
    assert sum("no further rank-up" in r for r in result.reasons) == 2


def test_nothing_ranks_above_p0():
    result = assess(facts(severity=1, flaggers_in_area={"F"}, reporters=9))
    assert result.priority == 0
    assert result.reasons[-1] == "9 distinct reporters (at least 5): already P0"


def test_flagger_outside_its_areas_does_not_rank_up_and_the_case_says_so():
    result = assess(facts(sources={"trusted_flagger"}, flaggers_out_of_area={"Watch Org"}))
    assert result.priority == 2
    assert result.reasons[-1] == ("Trusted flagger “Watch Org” reporting outside its areas: counted as an "
                                  "ordinary notice")


def test_unsure_automated_only_detection_ranks_down():
    result = assess(facts(sources={"automated"}, max_score=0.31))
    assert result.priority == 3
    assert result.reasons[-1] == "Automated detection only, classifier score 0.31 (below 0.50): ranked down to P3"


@pytest.mark.parametrize("change", [
    {"sources": {"automated", "user_report"}, "max_score": 0.31},  # a person complained too
    {"sources": {"automated"}, "max_score": 0.6},
    {"sources": {"automated"}, "max_score": None},
])
def test_no_rank_down_otherwise(change):
    assert assess(facts(**change)).priority == 2


def test_low_severity_is_not_ranked_below_p3():
    assert assess(facts(severity=3, sources={"automated"}, max_score=0.1)).priority == 3


def test_add_report_keeps_the_most_severe_category_and_highest_score():
    f = PriorityFacts()
    f.add_report(severity=3, category_name="Spam", source="automated", score=0.4)
    f.add_report(severity=1, category_name="Phishing", source="user_report", score=None)
    f.add_report(severity=2, category_name="Impersonation", source="trusted_flagger", score=0.7,
                 flagger="F", flagger_in_area=False)
    assert (f.severity, f.category_name, f.max_score) == (1, "Phishing", 0.7)
    assert f.sources == {"automated", "user_report", "trusted_flagger"}
    assert f.flaggers_out_of_area == {"F"} and not f.flaggers_in_area
    assert assess(f).reasons[0] == "High severity category “Phishing”: P1 baseline"
