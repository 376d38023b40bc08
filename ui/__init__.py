"""The shared Streamlit frame: every page starts with ``ctx = ui.page_setup("Title")``.

It sets the page config, loads the settings (environment, ``.env``, then root-level
``st.secrets``), draws the sidebar with the active provider (a clear SIMULATED badge on the
built-in simulator) and returns a :class:`Context` with the settings, the store, the catalog
(local price overrides applied) and a provider factory. ``imagegen`` never imports Streamlit;
this package is the only place pages get Streamlit helpers from.

Test hooks (environment variables, read on every run):

- ``IMAGEGEN_HOME``: where the store keeps runs and images (and the local price overrides).
- ``IMAGEGEN_TODAY``: ``YYYY-MM-DD`` pins the date every page works with (lifecycles, prices,
  defaults); unset, it is today's date in UTC, read once per run or rerun by :func:`today`.
- ``IMAGEGEN_DOTENV``: the ``.env`` file to read (default: ``.env`` next to ``dashboard.py``).
- ``IMAGEGEN_SIM_TIME_SCALE``: multiplies the simulator's modelled latency (``0.001`` makes a
  grid finish in milliseconds; ``0`` means no delay at all).
- ``IMAGEGEN_SIM_FIXED_LATENCY_S``: a fixed simulated latency per request instead of the model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from imagegen.errors import CatalogError, ConfigError, ImagegenError, StoreError
from imagegen.facade import (
    TODAY_ENV,
    Catalog,
    Settings,
    SimulatorConfig,
    Store,
    data_home,
    default_catalog,
    load_overrides,
    load_settings,
    load_token_overrides,
    redact_url,
    set_translator,
    working_date,
)

if TYPE_CHECKING:
    from imagegen.facade import Provider
from ui import i18n, state
from ui.i18n import N_, _
from ui.plain import md_escape

set_translator(i18n.gettext)  # chart titles, axes and legends follow the session's language

APP_TITLE = N_("Image model cost & latency")
#: The pages' titles (``page_setup``'s ids; shown translated).
PAGE_TITLES = (N_("Home"), N_("Generate"), N_("Results"), N_("Analytics"), N_("Planner"), N_("Catalog"),
               N_("Compare"))
ROOT = Path(__file__).resolve().parents[1]
#: The sidebar's page list (Streamlit's own, built from file names, would start with "dashboard"; it is off in
#: .streamlit/config.toml, client.showSidebarNavigation): (script, title, icon), Home first.
NAV = (("dashboard.py", PAGE_TITLES[0], ":material/home:"),
       ("pages/1_Generate.py", PAGE_TITLES[1], ":material/grid_view:"),
       ("pages/2_Results.py", PAGE_TITLES[2], ":material/history:"),
       ("pages/3_Analytics.py", PAGE_TITLES[3], ":material/monitoring:"),
       ("pages/4_Planner.py", PAGE_TITLES[4], ":material/calculate:"),
       ("pages/5_Catalog.py", PAGE_TITLES[5], ":material/menu_book:"),
       ("pages/6_Compare.py", PAGE_TITLES[6], ":material/compare:"))
#: Providers a user can pick in the UI, in this order.
PROVIDER_LABELS = {"simulator": N_("Simulator (built in)"), "openai": "OpenAI", "azure": "Azure OpenAI",
                   "compatible": N_("OpenAI-compatible endpoint")}


def provider_label(provider: str) -> str:
    """The provider's name for people, in the UI's language."""
    return _(PROVIDER_LABELS[provider]) if provider in PROVIDER_LABELS else provider
SIM_ENV = {"time_scale": "IMAGEGEN_SIM_TIME_SCALE", "fixed_latency_s": "IMAGEGEN_SIM_FIXED_LATENCY_S"}


@dataclass
class Context:
    """What a page needs: settings, store, catalog and a way to build providers."""

    settings: Settings | None
    store: Store | None
    catalog: Catalog
    provider_factory: Callable[..., Provider]
    home: Path
    today: date
    problems: list[str] = field(default_factory=list)
    #: True when a valid ``IMAGEGEN_TODAY`` pins ``today`` (Home and the sidebar say so).
    date_pinned: bool = False

    @property
    def provider(self) -> str:
        """The configured runtime provider name (``simulator`` when no key is set)."""
        return self.settings.provider if self.settings is not None else "simulator"

    def provider_choices(self) -> list[str]:
        """Providers the Generate page may offer: the configured one, and always the simulator."""
        names = ["simulator"]
        if self.provider != "simulator":
            names.insert(0, self.provider)
        return names


def simulator_defaults() -> dict:
    """Simulator settings from the environment (test hooks and demos), as a SimulatorConfig dict."""
    out: dict = {}
    for key, var in SIM_ENV.items():
        raw = os.environ.get(var)
        if raw not in (None, ""):
            try:
                out[key] = float(raw)
            except ValueError:
                st.warning(_("{var}={raw} is not a number; ignored. Fix: set it to e.g. 0.01.").format(
                    var=var, raw=repr(raw)))
    return out


def _secrets_dict() -> dict:
    """Root-level scalar values of ``st.secrets`` (no secrets file is fine)."""
    try:
        from streamlit.errors import StreamlitSecretNotFoundError
    except ImportError:  # pragma: no cover - older Streamlit
        StreamlitSecretNotFoundError = FileNotFoundError  # noqa: N806
    try:
        raw = st.secrets.to_dict()
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, (str, int, float, bool))}


def _home() -> Path:
    return data_home()


def today() -> date:
    """The pages' working date: ``IMAGEGEN_TODAY`` when set (validated), else today's date in UTC.

    The only clock read of a page run: :func:`page_setup` calls it once and the pages pass
    ``ctx.today`` on. Raises ConfigError naming the fix for a malformed ``IMAGEGEN_TODAY``.
    """
    return working_date(os.environ, datetime.now(UTC))


def _today(problems: list[str]) -> tuple[date, bool]:
    """(the working date, whether IMAGEGEN_TODAY pinned it)."""
    try:
        return today(), bool(os.environ.get(TODAY_ENV, "").strip())
    except ConfigError as exc:  # say so, and use the real date rather than take the app down
        problems.append(f"{exc} " + _("Using today's date (UTC) until this is fixed."))
        return datetime.now(UTC).date(), False


def pinned_date_note(day: date) -> str:
    """The sentence shown when IMAGEGEN_TODAY pins the date."""
    return _("The date is pinned to **{day}** by {var}: lifecycles, prices and defaults are "
             "those of that day. Unset it to use today's date.").format(day=day.isoformat(), var=TODAY_ENV)


@st.cache_resource(show_spinner=False)
def store_for(home: str) -> Store:
    """The process-wide Store for a data directory (one SQLite writer per process)."""
    return Store(home=home)


def _catalog(home: Path, problems: list[str]) -> Catalog:
    """The packaged catalog with the local price overrides of ``home`` applied."""
    catalog = default_catalog()
    try:
        overrides = load_overrides(home, catalog)
    except CatalogError as exc:  # a broken local file must not take the app down: say so, use the catalog
        problems.append(_("Local price overrides were ignored: {error}").format(error=exc))
        return catalog
    catalog = catalog.with_overrides(list(overrides)) if overrides else catalog
    try:
        measured = load_token_overrides(home, catalog)
    except CatalogError as exc:
        problems.append(_("Local token overrides were ignored: {error}").format(error=exc))
        return catalog
    return catalog.with_token_overrides(measured) if measured else catalog


def _dotenv() -> Path:
    return Path(os.environ.get("IMAGEGEN_DOTENV") or ROOT / ".env")


def _settings(problems: list[str]) -> Settings:
    try:
        return load_settings(secrets=_secrets_dict(), dotenv_path=_dotenv())
    except ConfigError as exc:  # names the variable to set; show it and fall back to the simulator
        problems.append(f"{exc} " + _("Using the simulator until this is fixed."))
        return load_settings(env={"IMAGEGEN_PROVIDER": "simulator"}, secrets={}, dotenv_path=_dotenv())


def simulator_config(overrides: dict | None = None) -> SimulatorConfig:
    """The simulator's config: the environment defaults, then a spec's ``[simulator]`` table."""
    return SimulatorConfig.from_dict({**simulator_defaults(), **(overrides or {})})


def make_provider_factory(settings: Settings) -> Callable[..., Provider]:
    """``factory(name=None, simulator=None)`` -> a Provider for ``name`` (default: the configured one).

    ``simulator`` is a SimulatorConfig dict (a spec's ``[simulator]`` table) merged over the
    environment defaults; ``name == "simulator"`` always gives the in-process simulator. Another
    provider than the configured one raises ConfigError naming the variables to set.
    """

    def factory(name: str | None = None, simulator: dict | None = None) -> Provider:
        # The providers import the openai SDK (~0.5 s): only a page that builds one pays for it.
        from imagegen.facade import make_provider, make_simulator_provider

        name = name or settings.provider
        config = simulator_config(simulator)
        if name == "simulator":
            return make_simulator_provider(config)
        chosen = settings if settings.provider == name else settings.for_provider(name)
        return make_provider(chosen, simulator=config)

    return factory


def describe_settings(settings: Settings | None) -> dict:
    """``settings.describe()``: what may be shown (masked key tail, never the key)."""
    return dict(settings.describe()) if settings is not None else {"provider": "simulator"}


def provider_badge(provider: str) -> str:
    """A short Markdown badge for a runtime provider."""
    if provider == "simulator":
        return ":orange-badge[" + _("SIMULATED") + "]"
    return f":green-badge[{provider_label(provider)}]"


def provider_lines(info: dict) -> list[str]:
    """Markdown lines describing the connection (masked key, never the key)."""
    provider = info.get("provider", "simulator")
    if provider == "simulator":
        return [f"**{provider_label(provider)}** {provider_badge(provider)}"]
    lines = [provider_badge(provider)]  # the badge carries the name: never "Azure OpenAI Azure OpenAI"
    flavour = info.get("flavour")
    if provider == "azure" and flavour:
        lines.append("API: " + ("v1" if flavour == "v1" else _("classic"))
                     + (f" · api-version `{info['api_version']}`" if info.get("api_version") else ""))
    if info.get("endpoint"):
        # never a key carried in the URL (user:key@host, ?api-key=...)
        lines.append(_("Endpoint: `{endpoint}`").format(endpoint=redact_url(info["endpoint"])))
    lines.append(_("Key: `{key}` ({auth})").format(key=info.get("api_key") or "—", auth=info.get("auth", "key")))
    if provider == "azure" and info.get("deployments"):
        lines.append(_("Deployments:") + " " + ", ".join(f"`{d}` → {m}" for d, m in info["deployments"].items()))
    return lines


def _nav() -> None:
    """The page list (ui.NAV). A page script run on its own (AppTest of one page) has no such pages: no list."""
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        for script, title, icon in NAV:
            st.page_link(script, label=_(title), icon=icon)
    except StreamlitPageNotFoundError:
        return


def _sidebar(ctx: Context) -> None:
    info = describe_settings(ctx.settings)
    with st.sidebar:
        _nav()
        i18n.language_switch()
        st.caption(_("Active provider"))
        for line in provider_lines(info):
            st.markdown(line)
        if ctx.provider == "simulator":
            st.caption(_("No key configured: every figure comes from the built-in simulator of the Images API and "
                         "is labelled simulated. Set OPENAI_API_KEY or the Azure variables (see .env.example) to use "
                         "a real service."))
        if ctx.date_pinned:
            st.info(pinned_date_note(ctx.today), icon=":material/event:")
        for problem in ctx.problems:
            st.warning(md_escape(problem))


class _Flow:
    """One horizontal, wrapping row standing in for ``st.columns(n)``: each element takes its natural width and
    the row wraps on a narrow screen (800 px) instead of cutting labels to "Gri…"; metrics size to content."""

    def __init__(self, box) -> None:
        self._box = box

    def __getattr__(self, name: str):
        attr = getattr(self._box, name)
        if name == "metric":
            return lambda *args, **kwargs: attr(*args, **{"width": "content", **kwargs})
        return attr

    def __enter__(self):
        return self._box.__enter__()

    def __exit__(self, *exc):
        return self._box.__exit__(*exc)


def flow_row(n: int, gap: str = "medium") -> list:
    """``n`` handles on one wrapping row (use like ``st.columns(n)``; elements keep their order)."""
    box = _Flow(st.container(horizontal=True, wrap=True, gap=gap, vertical_alignment="bottom"))
    return [box] * n


def or_stop(call: Callable, *args, **kwargs):
    """``call(*args, **kwargs)``; a project error is shown (``st.error``) and stops the page instead."""
    try:
        return call(*args, **kwargs)
    except ImagegenError as exc:
        st.error(md_escape(i18n.source_note(str(exc))))  # plain text; the library's messages are English
        st.stop()


def page_setup(title: str, icon: str = ":material/image:") -> Context:
    """Set up a page: config, settings, sidebar; return the Context. Call it first on every page."""
    i18n.resolve()  # this run's language: ?lang=, the sidebar's choice, the browser (ui/i18n.py)
    st.set_page_config(page_title=f"{_(title)} · {_(APP_TITLE)}", page_icon=icon, layout="wide")
    state.restore(title)  # widget values this page keeps across page switches (ui/state.py)
    problems: list[str] = []
    day, pinned = _today(problems)
    settings = _settings(problems)
    home = _home()
    try:
        store = store_for(str(home))
    except StoreError as exc:  # e.g. an unwritable IMAGEGEN_HOME: nothing works without the store
        st.error(md_escape(exc))
        st.stop()
    catalog = _catalog(home, problems)
    ctx = Context(settings=settings, store=store, catalog=catalog,
                  provider_factory=make_provider_factory(settings), home=home, today=day, problems=problems,
                  date_pinned=pinned)
    _sidebar(ctx)
    return ctx
