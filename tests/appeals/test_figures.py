"""The figures insights draws from appeals: appeal rate, overturn rate by policy, action type and
original decider, and time to decide."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals import selectors, services

pytestmark = pytest.mark.django_db


def test_appeal_and_overturn_rates_and_time_to_decide(decided, file_appeal, claimed_appeal, reviewer):
    since = timezone.now() - timedelta(days=1)
    overturned = claimed_appeal(decided())
    upheld = claimed_appeal(decided(actions=[{"type": "warn"}]))
    decided()  # not appealed
    file_appeal(decided())  # still open
    services.appeal_decide(appeal=overturned, outcome="overturned", rationale="r", statement="s", actor=reviewer)
    services.appeal_decide(appeal=upheld, outcome="upheld", rationale="r", statement="s", actor=reviewer)

    assert selectors.appeal_rate(since=since) == {"decisions": 4, "appealed": 3, "rate": 0.75}
    assert selectors.overturn_rates(since=since, by="policy") == [
        {"key": "appeal-policy", "decided": 2, "overturned": 1, "modified": 0, "overturn_rate": 0.5}]
    by_type = {row["key"]: row["overturn_rate"] for row in selectors.overturn_rates(since=since, by="action_type")}
    assert by_type == {"suspension": 1.0, "warn": 0.0}
    assert [row["key"] for row in selectors.overturn_rates(since=since, by="decider")] == ["ana"]
    mean = selectors.time_to_decide(since=since)
    assert mean is not None and timedelta(0) <= mean < timedelta(minutes=5)
