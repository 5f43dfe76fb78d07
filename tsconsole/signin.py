"""Sign-in throttling shared by the login form and the API token endpoint.

Two fixed-window counters in the cache (Redis) guard every password check:

- per account: the username after NFKC normalisation and case folding, so `ａnalyst2`,
  `Analyst2` and `analyst2` spend one budget (Django's own UsernameField also NFKC-normalises
  before authenticating, so the key must be at least as coarse as what signs in);
- per client address: the socket's address (REMOTE_ADDR), unless `TRUSTED_PROXY_COUNT` proxies
  are configured in front, in which case it is the entry that the outermost trusted proxy
  appended to X-Forwarded-For (the Nth from the right). Anything further left was written by
  the client and is ignored, so a new X-Forwarded-For on each try changes nothing. IPv6
  addresses count per /64, the block one subscriber usually holds.

An attempt takes a slot in both counters before the password is checked (so parallel tries cannot
slip past the limit together); a success clears the account counter and gives the address slot
back. The refusal never says which counter ran out or whether the account exists, and unknown
usernames are counted exactly like known ones.

Why not django-axes: it would need a second lockout response path (its middleware answers in
HTML, the API needs the API's error shape), it has no per-/64 grouping of IPv6 addresses, and its
database handler writes a row per failed attempt; the two Redis counters below are the whole
requirement and are atomic (INCR) under concurrency.
"""

import hashlib
import ipaddress
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .services import audit_record

LOCKOUT_MESSAGE = (
    "Too many sign-in attempts for this account or from this address. "
    "Wait {minutes} minutes and try again, or ask an administrator to check the account."
)


class SigninLocked(Exception):
    """The attempt was refused before the password was checked."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(LOCKOUT_MESSAGE.format(minutes=minutes))


def normalise_username(username: str) -> str:
    """The form in which usernames are counted: NFKC, case-folded, surrounding space removed."""
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


def client_address(request) -> str:
    """The client's address: the socket's, or the one the outermost trusted proxy saw."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        # Fewer hops than configured proxies: the request did not come through all of them; the
        # socket peer is the nearest address nobody upstream could have written.
        return remote
    candidate = chain[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def address_key(address: str) -> str:
    """IPv4 addresses count one by one, IPv6 addresses per /64 (IPv4-mapped IPv6 as IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _take(key: str, window: int) -> int:
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


@dataclass
class Attempt:
    """One password check in progress; report its outcome with `succeeded()` or `failed()`."""

    account_key: str
    address_key: str

    def succeeded(self) -> None:
        cache.delete(self.account_key)
        try:
            cache.decr(self.address_key)
        except ValueError:
            pass

    def failed(self) -> None:
        """Nothing to do: the slot taken in `begin` stays spent until the window ends."""


def begin(request, username: str) -> Attempt:
    """Take one slot per counter for an attempt, or raise SigninLocked (checking nothing)."""
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    name, network = normalise_username(username), address_key(client_address(request))
    account = f"signin:account:{_digest(name)}"
    address = f"signin:address:{_digest(network)}"
    account_count = _take(account, window)
    address_count = _take(address, window)
    # The first refused attempt of a window is audited (once, not per try), so an administrator
    # sees which account or address was locked out and when.
    for scope, count, limit, subject in (
        ("account", account_count, settings.LOGIN_ACCOUNT_RATE_LIMIT, name),
        ("address", address_count, settings.LOGIN_ADDRESS_RATE_LIMIT, network),
    ):
        if count == limit + 1:
            audit_record(actor=None, verb=f"signin.locked_{scope}", object_type=scope, object_ref=subject[:200],
                         data={"address": network, "attempts": limit, "window_seconds": window})
    if account_count > settings.LOGIN_ACCOUNT_RATE_LIMIT or address_count > settings.LOGIN_ADDRESS_RATE_LIMIT:
        raise SigninLocked(retry_after=window)  # at most one window: the counters expire with it
    return Attempt(account_key=account, address_key=address)
