"""The Deliveries page: what the outbox sent, what it is still trying, and dead letters to retry."""

import json
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import outbox, selectors
from .errors import DomainError, NotFound
from .forms import OutboxFilterForm
from .models import OutboxMessage
from .roles import capability_required

FILTERS = ("status", "channel", "topic")


def _user_names(messages) -> dict:
    """Display names of the users in-app messages go to (one query)."""
    ids = {m.payload.get("user_id") for m in messages if m.channel == OutboxMessage.Channel.IN_APP}
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return {u.pk: (u.get_full_name() or u.get_username()) + f" ({u.get_username()})" if u.get_full_name() else u.get_username()
            for u in get_user_model().objects.filter(pk__in=ids)}


def _destination(message: OutboxMessage, names: dict | None = None) -> str:
    """Where a message goes, for people. Chat webhook URLs carry their token in the path: show the host."""
    if message.channel == OutboxMessage.Channel.WEBHOOK:
        return message.endpoint.name if message.endpoint else "(endpoint removed)"
    if message.channel == OutboxMessage.Channel.SLACK:
        return f"{urlsplit(message.recipient).netloc or '?'}/…"
    if message.channel == OutboxMessage.Channel.IN_APP:
        user_id = message.payload.get("user_id")
        return (names or {}).get(user_id) or f"a removed user (id {user_id})"
    return message.recipient


@capability_required("outbox.manage")
@require_GET
def outbox_list(request):
    form = OutboxFilterForm(request.GET)
    context = {"form": form, "rows": [], "next_url": "", "backlog": selectors.outbox_backlog(), "filters": {}}
    status = 200
    if form.is_valid():
        filters = {name: form.cleaned_data[name] for name in FILTERS if form.cleaned_data[name]}
        rows, next_before = selectors.outbox_messages(**filters, before=form.cleaned_data["before"])
        names = _user_names(rows)
        for row in rows:
            row.destination = _destination(row, names)
        context.update(rows=rows, filters=filters, paged=bool(form.cleaned_data["before"]),
                       next_url=f"?{urlencode({**filters, 'before': next_before})}" if next_before else "",
                       first_url=f"?{urlencode(filters)}" if filters else "?")
    else:
        status = 400
    template = "outbox/_table.html" if request.htmx else "outbox/list.html"
    return render(request, template, context, status=status)


@capability_required("outbox.manage")
@require_GET
def outbox_detail(request, pk: int):
    message = get_object_or_404(OutboxMessage.objects.select_related("endpoint"), pk=pk)
    return render(request, "outbox/detail.html", {
        "message": message,
        "destination": _destination(message, _user_names([message])),
        "payload_json": json.dumps(message.payload, indent=2, sort_keys=True, ensure_ascii=False),
        "webhook_body": outbox.webhook_body(message).decode()
        if message.channel == OutboxMessage.Channel.WEBHOOK else "",
        "unretryable": outbox.outbox_retry_blocker(message) if message.status == OutboxMessage.Status.DEAD else "",
    })


@capability_required("outbox.manage")
@require_POST
def outbox_retry(request, pk: int):
    try:
        outbox.outbox_retry(message_id=pk, actor=request.user)
    except NotFound:
        raise Http404("No such delivery.")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Delivery queued again; the relay sends it on its next run "
                                  f"(every {settings.OUTBOX_RELAY_INTERVAL_SECONDS} s).")
    return redirect("outbox-detail", pk=pk)


@capability_required("outbox.manage")
@require_POST
def outbox_retry_dead(request):
    form = OutboxFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The filter of the retry was not understood; nothing was retried.")
        return redirect("outbox-list")
    topic, channel = form.cleaned_data["topic"], form.cleaned_data["channel"]
    count = outbox.outbox_retry_dead(actor=request.user, topic=topic, channel=channel)
    if count:
        messages.success(request, f"{count} dead deliveries queued again.")
    else:
        messages.info(request, "No dead delivery to retry (webhooks to inactive endpoints stay dead).")
    query = urlencode({k: v for k, v in {"status": "dead", "topic": topic, "channel": channel}.items() if v})
    return redirect(f"{reverse('outbox-list')}?{query}")
