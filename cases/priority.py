"""Case priority P0–P3, with the reasons a person can read on the case.

The baseline is the default severity of the most severe category reported (critical → P0, low →
P3). Then each factor may rank the case up one level:

- a legal request (an order or notice from an authority);
- a trusted flagger reporting within its areas of expertise (DSA Art. 22: the priority is owed
  only there; outside its areas a flagger's notice counts like anyone else's);
- a classifier score at or above `SCORE_RANK_UP`;
- `REPORTERS_RANK_UP` or more distinct reporters;
- a subject reach (followers of the account, or of the content's author) of `REACH_RANK_UP` or more.

Ranking up stops `MAX_RANK_UP` levels above the baseline, so a pile-up of weak signals cannot make
spam outrank child safety. A case seen only by automated detection with a score below
`SCORE_RANK_DOWN` ranks one level down: no person has complained and the model is unsure.

`assess` is a pure function of `PriorityFacts`; intake builds the facts from one report or from a
batch, folds later reports into the facts a case keeps (`stored`, `from_stored`), and always calls
this one function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Priority, Severity, Source

SCORE_RANK_UP = 0.9
SCORE_RANK_DOWN = 0.5
REPORTERS_RANK_UP = 5
REACH_RANK_UP = 100_000
MAX_RANK_UP = 2

LOWEST = max(Priority.values)
HIGHEST = min(Priority.values)


@dataclass
class PriorityFacts:
    """What is known about a case's reports and subject, as far as priority cares."""

    severity: int = Severity.MEDIUM
    category_name: str = ""
    sources: set[str] = field(default_factory=set)
    flaggers_in_area: set[str] = field(default_factory=set)
    flaggers_out_of_area: set[str] = field(default_factory=set)
    max_score: float | None = None
    reporters: int = 0
    reach: int = 0

    def add_report(self, *, severity: int, category_name: str, source: str, score: float | None,
                   flagger: str | None = None, flagger_in_area: bool = False) -> None:
        """Fold one report into the facts (most severe category wins; the highest score counts)."""
        if not self.category_name or severity < self.severity:
            self.severity, self.category_name = severity, category_name
        self.sources.add(source)
        if flagger:
            (self.flaggers_in_area if flagger_in_area else self.flaggers_out_of_area).add(flagger)
        if score is not None and (self.max_score is None or score > self.max_score):
            self.max_score = score


    def stored(self) -> dict:
        """What a case keeps of its reports' facts, to fold the next reports into without reading every
        earlier one again (the subject's reach and the distinct reporters are counted apart)."""
        return {"severity": int(self.severity), "category": self.category_name, "sources": sorted(self.sources),
                "in_area": sorted(self.flaggers_in_area), "out_of_area": sorted(self.flaggers_out_of_area),
                "max_score": self.max_score}

    @classmethod
    def from_stored(cls, stored: dict, *, reach: int = 0, reporters: int = 0) -> PriorityFacts:
        return cls(severity=stored["severity"], category_name=stored["category"], sources=set(stored["sources"]),
                   flaggers_in_area=set(stored["in_area"]), flaggers_out_of_area=set(stored["out_of_area"]),
                   max_score=stored["max_score"], reach=reach, reporters=reporters)


@dataclass(frozen=True)
class Assessment:
    priority: int
    reasons: list[str]


def _names(names: set[str]) -> str:
    return ", ".join(f"“{n}”" for n in sorted(names))


def assess(facts: PriorityFacts) -> Assessment:
    """The priority for these facts and the reasons, most important first."""
    baseline = min(max(int(facts.severity), HIGHEST), LOWEST)
    reasons = [f"{Severity(baseline).label} severity category “{facts.category_name}”: P{baseline} baseline"]
    ups: list[str] = []
    if Source.LEGAL_REQUEST in facts.sources:
        ups.append("Legal request from an authority")
    if facts.flaggers_in_area:
        ups.append(f"Trusted flagger {_names(facts.flaggers_in_area)} reporting within its area of expertise "
                   "(DSA Art. 22)")
    if facts.max_score is not None and facts.max_score >= SCORE_RANK_UP:
        ups.append(f"Classifier score {facts.max_score:.2f} (at least {SCORE_RANK_UP:.2f})")
    if facts.reporters >= REPORTERS_RANK_UP:
        ups.append(f"{facts.reporters} distinct reporters (at least {REPORTERS_RANK_UP})")
    if facts.reach >= REACH_RANK_UP:
        ups.append(f"Subject reach {facts.reach:,} followers (at least {REACH_RANK_UP:,})")

    priority = baseline
    for n, reason in enumerate(ups):
        if priority == HIGHEST:
            reasons.append(f"{reason}: already P{HIGHEST}")
        elif n >= MAX_RANK_UP:
            reasons.append(f"{reason}: no further rank-up (at most {MAX_RANK_UP} levels above the baseline)")
        else:
            priority -= 1
            reasons.append(f"{reason}: ranked up to P{priority}")

    if facts.flaggers_out_of_area and not facts.flaggers_in_area:
        reasons.append(f"Trusted flagger {_names(facts.flaggers_out_of_area)} reporting outside its areas: "
                       "counted as an ordinary notice")
    if (not ups and facts.sources == {Source.AUTOMATED} and facts.max_score is not None
            and facts.max_score < SCORE_RANK_DOWN and priority < LOWEST):
        priority += 1
        reasons.append(f"Automated detection only, classifier score {facts.max_score:.2f} "
                       f"(below {SCORE_RANK_DOWN:.2f}): ranked down to P{priority}")
    return Assessment(priority=priority, reasons=reasons)
