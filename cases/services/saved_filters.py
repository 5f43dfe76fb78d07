"""Saved case-list filters: a user names the current filter to come back to it."""

from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction

from tsconsole.errors import InvalidInput, NotFound

from ..filters import CaseFilter
from ..models import SavedFilter

MAX_PER_USER = 30
# What a saved filter keeps of the list's query string: the filter fields and the sort, never the page.
KEPT = set(CaseFilter.base_filters) | {"sort"}


def clean_query(query: str) -> str:
    """The list's query string reduced to its filter fields and sort, in a stable order."""
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k in KEPT and v]
    return urlencode(sorted(pairs))


def saved_filter_save(*, user, name: str, query: str) -> SavedFilter:
    """Save (or replace, under the same name) the user's filter."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the filter a name.", field_errors={"name": ["Required."]})
    if len(name) > 80:
        raise InvalidInput("A filter name has at most 80 characters.", field_errors={"name": ["At most 80 characters."]})
    if "\x00" in name or "\x00" in (query or ""):
        raise InvalidInput("The filter contains a NUL character.", field_errors={"name": ["Not valid text."]})
    cleaned = clean_query(query)
    if len(cleaned) > 1000:
        raise InvalidInput("This filter is too long to save.", field_errors={"query": ["Too long."]})
    with transaction.atomic():
        existing = SavedFilter.objects.select_for_update().filter(user=user, name=name).first()
        if existing is not None:
            existing.query = cleaned
            existing.save(update_fields=["query"])
            return existing
        if SavedFilter.objects.filter(user=user).count() >= MAX_PER_USER:
            raise InvalidInput(f"You have {MAX_PER_USER} saved filters; delete one first.",
                               field_errors={"name": ["Too many saved filters."]})
        try:
            with transaction.atomic():
                return SavedFilter.objects.create(user=user, name=name, query=cleaned)
        except IntegrityError:  # saved at the same moment from another tab
            return SavedFilter.objects.get(user=user, name=name)


def saved_filter_delete(*, user, filter_id: int) -> None:
    deleted, _ = SavedFilter.objects.filter(user=user, pk=filter_id).delete()
    if not deleted:
        raise NotFound("No such saved filter.")
