"""Shared figures (tsconsole.shared.shared_for): computed once for everyone within their window."""

from tsconsole.shared import shared_for


def test_a_figure_is_computed_once_for_everyone_within_its_window():
    calls = []

    def count():
        calls.append(1)
        return {"open": len(calls)}

    assert shared_for("test:figure", 10, count) == {"open": 1}
    assert shared_for("test:figure", 10, count) == {"open": 1}
    assert len(calls) == 1
    assert shared_for("test:other-figure", 10, count) == {"open": 2}


def test_no_window_computes_every_time():
    calls = []
    assert [shared_for("test:live", 0, lambda: calls.append(1) or len(calls)) for _ in range(3)] == [1, 2, 3]
