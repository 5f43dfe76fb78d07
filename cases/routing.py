"""Routing: which queue a report's case goes to.

Rules are ordered by position (then id); the first active rule whose every set condition matches
wins, and a report no rule matches goes to the default queue. A rule's category matches that
category and every category below it in the taxonomy, so a rule on a group ("child-safety") catches
all its subcategories. Language matches on the primary subtag too: a rule for "pt" takes "pt-BR".

`RoutingTable.load()` reads rules, categories and queues once; intake builds one table per batch
(or reuses a cached one, see `cases.services.intake.intake_context`) and routes every item with it,
so a batch of 1,000 reports costs three queries for routing, not three thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsconsole.errors import Conflict

from .models import Category, Queue, RoutingRule


@dataclass(frozen=True)
class CompiledRule:
    """A routing rule with its category condition expanded to the category and its descendants."""

    id: int
    position: int
    name: str
    queue_id: int
    category_ids: frozenset[int] | None
    source: str
    min_classifier_score: float | None
    language: str
    territory: str

    def matches(self, *, category_id: int, source: str, score: float | None, language: str, territory: str) -> bool:
        if self.category_ids is not None and category_id not in self.category_ids:
            return False
        if self.source and self.source != source:
            return False
        if self.min_classifier_score is not None and (score is None or score < self.min_classifier_score):
            return False
        if self.language and not _language_matches(self.language, language):
            return False
        if self.territory and self.territory.upper() != (territory or "").upper():
            return False
        return True


@dataclass(frozen=True)
class Route:
    """Where a report goes and why (the rule's name, or the default queue)."""

    queue_id: int
    queue_slug: str
    rule_id: int | None
    reason: str


def _language_matches(rule_language: str, language: str) -> bool:
    rule_language = rule_language.lower()
    language = (language or "").lower()
    return language == rule_language or language.split("-", 1)[0] == rule_language


def descendants(categories: list[tuple[int, int | None]]) -> dict[int, frozenset[int]]:
    """For each category id, the ids of itself and every category below it (any depth)."""
    children: dict[int | None, list[int]] = {}
    for cid, parent_id in categories:
        children.setdefault(parent_id, []).append(cid)
    result: dict[int, frozenset[int]] = {}
    for cid, _ in categories:
        seen, stack = {cid}, [cid]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in seen:  # a cycle in bad data must not loop forever
                    seen.add(child)
                    stack.append(child)
        result[cid] = frozenset(seen)
    return result


def ancestors(categories: list[tuple[int, int | None]]) -> dict[int, tuple[int, ...]]:
    """For each category id, itself followed by its parent, grandparent and so on."""
    parent = dict(categories)
    result = {}
    for cid, _ in categories:
        chain, current = [cid], parent.get(cid)
        while current is not None and current not in chain:
            chain.append(current)
            current = parent.get(current)
        result[cid] = tuple(chain)
    return result


class RoutingTable:
    """Active rules in order plus the default queue, ready to route many reports without queries."""

    def __init__(self, rules: list[CompiledRule], queues: dict[int, str], default_queue_id: int | None):
        self.rules = rules
        self.queue_slugs = queues
        self.default_queue_id = default_queue_id

    @classmethod
    def load(cls, category_tree: list[tuple[int, int | None]] | None = None) -> RoutingTable:
        if category_tree is None:
            category_tree = list(Category.objects.values_list("id", "parent_id"))
        below = descendants(category_tree)
        queues = {q.id: q for q in Queue.objects.filter(is_active=True).order_by("position", "name", "id")}
        rules = []
        for rule in RoutingRule.objects.filter(is_active=True).order_by("position", "id"):
            if rule.queue_id not in queues:
                continue  # a rule into a retired queue routes nothing
            rules.append(CompiledRule(
                id=rule.id, position=rule.position, name=rule.name or f"rule {rule.position}",
                queue_id=rule.queue_id,
                category_ids=below.get(rule.category_id, frozenset({rule.category_id})) if rule.category_id else None,
                source=rule.source, min_classifier_score=rule.min_classifier_score,
                language=rule.language, territory=rule.territory,
            ))
        default = next((q.id for q in queues.values() if q.is_default), None)
        if default is None and queues:
            # Without a flagged default, the first active queue catches the rest rather than losing reports.
            default = next(iter(queues))
        return cls(rules, {qid: q.slug for qid, q in queues.items()}, default)

    def route(self, *, category_id: int, source: str, score: float | None = None, language: str = "",
              territory: str = "") -> Route:
        """The queue for one report: first matching rule, else the default queue."""
        for rule in self.rules:
            if rule.matches(category_id=category_id, source=source, score=score, language=language,
                            territory=territory):
                return Route(rule.queue_id, self.queue_slugs[rule.queue_id], rule.id, f"Routing rule “{rule.name}”")
        if self.default_queue_id is None:
            raise Conflict("No active queue is configured, so the report cannot be routed. Ask an admin to add one.")
        return Route(self.default_queue_id, self.queue_slugs[self.default_queue_id], None, "Default queue")


def route_report(*, category_id: int, source: str, score: float | None = None, language: str = "",
                 territory: str = "") -> Route:
    """Route one report with a freshly loaded table (for callers outside a batch)."""
    return RoutingTable.load().route(
        category_id=category_id, source=source, score=score, language=language, territory=territory
    )
