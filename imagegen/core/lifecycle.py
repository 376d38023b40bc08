"""Each model's lifecycle on each provider, decided in one place.

:func:`status` answers, for one model on one provider on one date: is it live, retiring (a
shutdown inside the catalog's one "soon" window, ``Catalog.soon_days`` from models.toml, or a
published deprecation notice), shut down, or not offered there, and what is its successor?
Validation, the pages, the planner, the CLI and the code generator all ask this function, so
they never disagree. The date is always an argument: nothing here reads the clock.

The simulator serves every model from its documented behaviour (it follows OpenAI's facts);
a compatible endpoint decides for itself. Both report OpenAI's lifecycle but stay runnable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from imagegen.core.catalog import PROVIDER_FLAVOUR, PROVIDERS, Catalog

State = Literal["live", "retiring", "shut_down", "not_offered"]
STATES: tuple[State, ...] = ("live", "retiring", "shut_down", "not_offered")
#: Runtime providers that run every catalog model whatever its lifecycle on the real service.
SERVES_EVERY_MODEL = ("simulator", "compatible")
#: How each state is written in tables and labels.
STATE_LABELS = {"live": "live", "retiring": "retiring", "shut_down": "shut down", "not_offered": "not offered"}


@dataclass(frozen=True)
class Lifecycle:
    """One model on one provider on one date (see :func:`status`)."""

    model: str
    provider: str            # the runtime provider asked about
    facts_from: str          # the catalog provider whose dates apply (the simulator follows openai)
    on: date
    state: State
    shutdown_date: date | None
    deprecated: date | None
    days_left: int | None    # days from ``on`` to the shutdown (None when none is scheduled)
    successor: str | None
    source: str
    checked: date | None

    @property
    def runnable(self) -> bool:
        """True when a request for this model on this provider on ``on`` may be sent."""
        return self.provider in SERVES_EVERY_MODEL or self.state in ("live", "retiring")

    @property
    def label(self) -> str:
        """``live``, ``retiring``, ``shut down`` or ``not offered``."""
        return STATE_LABELS[self.state]

    def _successor(self, lead: str = "; successor: ") -> str:
        return f"{lead}{self.successor}" if self.successor else ""

    @property
    def sentence(self) -> str:
        """One sentence saying what holds on ``on`` (the date and the successor included)."""
        where = self.facts_from
        if self.state == "not_offered":
            return f"{self.model} is not offered on {where}."
        if self.state == "shut_down":
            assert self.shutdown_date is not None
            return (f"{self.model} was shut down on {where} on {self.shutdown_date.isoformat()}"
                    f"{self._successor()}.")
        if self.state == "retiring":
            assert self.shutdown_date is not None and self.days_left is not None
            days = "tomorrow" if self.days_left == 1 else f"in {self.days_left} days"
            return (f"{self.model} shuts down on {where} on {self.shutdown_date.isoformat()} ({days})"
                    f"{self._successor()}.")
        if self.shutdown_date is not None:
            return (f"{self.model} is live on {where}; it is scheduled to shut down there on "
                    f"{self.shutdown_date.isoformat()}{self._successor()}.")
        return f"{self.model} is live on {where}."

    @property
    def short(self) -> str:
        """A picker label suffix: ``shut down on openai 2026-12-01`` / ``shuts down on azure 2027-06-16``."""
        if self.state == "shut_down":
            return f"shut down on {self.facts_from} {self.shutdown_date}"
        if self.state == "retiring":
            return f"shuts down on {self.facts_from} {self.shutdown_date}"
        if self.state == "not_offered":
            return f"not offered on {self.facts_from}"
        return f"live on {self.facts_from}"


def status(catalog: Catalog, model: str, provider: str, on: date) -> Lifecycle:
    """The lifecycle of ``model`` on runtime ``provider`` on date ``on``.

    ``retiring``: a shutdown is scheduled within ``catalog.soon_days`` days, or a deprecation
    notice is already published. A model without a provider entry, or marked unavailable, is
    ``not_offered``. Raises CatalogError for a model the catalog does not know.
    """
    spec = catalog.model(model)
    facts_from = PROVIDER_FLAVOUR.get(provider, provider)
    entry = spec.providers.get(facts_from)
    if entry is None or not entry.available:
        return Lifecycle(spec.id, provider, facts_from, on, "not_offered", None, None, None, None,
                         entry.source if entry is not None else spec.source,
                         entry.checked if entry is not None else spec.checked)
    days_left = (entry.shutdown - on).days if entry.shutdown is not None else None
    state: State
    if days_left is not None and days_left <= 0:
        state = "shut_down"
    elif days_left is not None and (days_left <= catalog.soon_days
                                    or (entry.deprecated is not None and entry.deprecated <= on)):
        state = "retiring"
    else:
        state = "live"
    return Lifecycle(spec.id, provider, facts_from, on, state, entry.shutdown, entry.deprecated, days_left,
                     entry.successor, entry.source, entry.checked)


def every_status(catalog: Catalog, on: date, providers: Iterable[str] = PROVIDERS) -> list[Lifecycle]:
    """Every catalog model on every provider in ``providers`` (catalog order, then provider order)."""
    return [status(catalog, mid, p, on) for mid in catalog.models for p in providers]


def preferred_models(catalog: Catalog, provider: str, on: date, *, runnable_only: bool = True) -> list[str]:
    """Catalog ids in the data's preference order for ``provider`` (models.toml ``[preference]``).

    Models live (or retiring) on the provider's real service come first, in that order; with
    ``runnable_only`` only models that may run on ``provider`` on ``on`` are kept. On the simulator
    that keeps every model, the shut-down ones last.
    """
    flavour = PROVIDER_FLAVOUR.get(provider, provider)
    order = list(catalog.preference.get(flavour, ()))
    order += [m for m in catalog.models if m not in order]
    states = {m: status(catalog, m, provider, on) for m in order}
    on_service = [m for m in order if states[m].state in ("live", "retiring")]
    live = [m for m in on_service if states[m].state == "live"] + \
        [m for m in on_service if states[m].state == "retiring"]
    rest = [m for m in order if m not in on_service and (states[m].runnable or not runnable_only)]
    return live + rest


def lifecycle_warnings(catalog: Catalog, on: date) -> list[tuple[str, Lifecycle]]:
    """(level, lifecycle) for every model shut down ("error") or retiring ("warning") on a provider on ``on``."""
    out = []
    for life in every_status(catalog, on):
        if life.state == "shut_down":
            out.append(("error", life))
        elif life.state == "retiring":
            out.append(("warning", life))
    return out
