"""Which provider to use and how to reach it, from environment variables, ``.env`` and secrets.

Order of precedence (the first layer that sets a variable wins):

1. environment variables (``os.environ``, or the ``env`` mapping passed in);
2. the ``.env`` file (read with ``python-dotenv``'s ``dotenv_values``; ``os.environ`` is never
   modified), by default ``./.env``;
3. Streamlit secrets, passed in as a plain mapping of root keys (``dict(st.secrets)``; this
   module never imports streamlit).

Within a layer, the seed document's names win over the SDK's standard names
(``AZURE_OPENAI_API_IMAGE_KEY`` before ``AZURE_OPENAI_API_KEY``, and so on). Empty values
count as unset, so an untouched copy of ``.env.example`` configures nothing.

With no key anywhere the provider is the built-in simulator, in-process. Keys are held in
memory only: ``repr``/``str``/``describe()`` show a masked tail (``…abcd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from imagegen.core.catalog import Catalog, default_catalog
from imagegen.errors import ConfigError
from imagegen.redaction import redact_url, register_secret, register_url_secrets

PROVIDER_CHOICES = ("simulator", "openai", "azure", "compatible")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
AZURE_DEFAULT_API_VERSION = "2025-04-01-preview"
TRUE_VALUES = ("1", "true", "yes", "on")

#: Every variable read, per setting, in priority order inside one layer.
VARIABLES: dict[str, tuple[str, ...]] = {
    "provider": ("IMAGEGEN_PROVIDER",),
    "openai_api_key": ("OPENAI_API_KEY",),
    "openai_base_url": ("OPENAI_BASE_URL",),
    "organization": ("OPENAI_ORG_ID",),
    "project": ("OPENAI_PROJECT_ID",),
    "azure_api_key": ("AZURE_OPENAI_API_IMAGE_KEY", "AZURE_OPENAI_API_KEY"),
    "azure_endpoint": ("AZURE_OPENAI_API_IMAGE_ENDPOINT", "AZURE_OPENAI_ENDPOINT"),
    "azure_base_url": ("AZURE_OPENAI_BASE_URL",),
    "azure_deployment": ("AZURE_OPENAI_API_IMAGE_MODEL",),
    "api_version": ("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION"),
    "azure_ad_token": ("AZURE_OPENAI_AD_TOKEN",),
    "use_entra_id": ("AZURE_OPENAI_USE_ENTRA_ID",),
    "deployments": ("IMAGEGEN_AZURE_DEPLOYMENTS",),
}


#: Settings whose values are secrets (registered for redaction when read).
SECRET_SETTINGS = ("openai_api_key", "azure_api_key", "azure_ad_token")


def mask(secret: str | None) -> str | None:
    """``"sk-...wxyz"`` -> ``"…wxyz"``; short secrets show nothing of themselves."""
    if not secret:
        return None
    return "…" + secret[-4:] if len(secret) >= 8 else "…"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration (hashable). Keys never appear in ``repr``/``str``/``describe()``.

    ``provider`` is simulator | openai | compatible | azure. ``flavour`` is ``classic`` or ``v1``
    for Azure, ``openai`` for OpenAI/compatible and ``in-process`` for the simulator.
    """

    provider: str = "simulator"
    flavour: str = "in-process"
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    organization: str | None = None
    project: str | None = None
    azure_ad_token: str | None = field(default=None, repr=False)
    use_entra_id: bool = False
    default_deployment: str | None = None
    deployment_pairs: tuple[tuple[str, str], ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    note: str = ""
    #: The layered raw values (setting, value, source); kept for ``for_provider``, never shown.
    raw: tuple[tuple[str, str, str], ...] = field(default=(), repr=False, compare=False)

    # --- derived ----------------------------------------------------------------------

    @property
    def simulated(self) -> bool:
        return self.provider == "simulator"

    @property
    def deployments(self) -> dict[str, str]:
        """Azure deployment name -> catalog model id."""
        return dict(self.deployment_pairs)

    @property
    def masked_key(self) -> str | None:
        return mask(self.api_key or self.azure_ad_token)

    @property
    def endpoint(self) -> str:
        if self.provider == "simulator":
            return "in-process simulator"
        if self.provider == "azure":
            return (self.base_url if self.flavour == "v1" else self.azure_endpoint) or ""
        return self.base_url or OPENAI_DEFAULT_BASE_URL

    @property
    def auth(self) -> str:
        if self.provider == "simulator":
            return "none"
        if self.provider == "azure":
            if self.use_entra_id:
                return "entra-id"
            if self.azure_ad_token and not self.api_key:
                return "ad-token"
            return "api-key"
        return "bearer"

    def source_of(self, setting: str) -> str | None:
        return dict(self.sources).get(setting)

    def deployment_for(self, model_id: str) -> str:
        """The Azure deployment that serves ``model_id``; ConfigError naming the variable when none does."""
        for dep, model in self.deployment_pairs:
            if dep == self.default_deployment and model == model_id:
                return dep
        for dep, model in self.deployment_pairs:
            if model == model_id:
                return dep
        known = ", ".join(f"{d}={m}" for d, m in self.deployment_pairs) or "none"
        raise ConfigError(
            f"no Azure deployment serves model {model_id!r} (deployments: {known}). "
            f"Fix: set IMAGEGEN_AZURE_DEPLOYMENTS to include YOUR-DEPLOYMENT={model_id}."
        )

    def model_for(self, deployment: str) -> str:
        """The catalog model behind an Azure deployment; ConfigError naming the variable when unmapped."""
        try:
            return self.deployments[deployment]
        except KeyError:
            raise ConfigError(
                f"Azure deployment {deployment!r} is not mapped to a catalog model. "
                f"Fix: set IMAGEGEN_AZURE_DEPLOYMENTS={deployment}=gpt-image-1.5 (the model you deployed)."
            ) from None

    def describe(self) -> dict:
        """What the app shows about the connection: never a key, only its masked tail."""
        return {
            "provider": self.provider,
            "simulated": self.simulated,
            "flavour": self.flavour,
            "endpoint": redact_url(self.endpoint),  # a key in the URL (?api-key=…, user:key@) is never shown
            "api_key": self.masked_key,
            "auth": self.auth,
            "api_version": self.api_version,
            "organization": self.organization,
            "project": self.project,
            "deployments": self.deployments,
            "default_deployment": self.default_deployment,
            "sources": dict(self.sources),
            "note": self.note,
        }

    def for_provider(self, provider: str, *, catalog: Catalog | None = None) -> Settings:
        """A copy configured for ``provider`` (e.g. a grid axis over providers); ConfigError if unconfigured."""
        if provider == self.provider:
            return self
        raw = {name: (value, src) for name, value, src in self.raw}
        raw["provider"] = (provider, "override")
        return _resolve(raw, catalog or default_catalog())

    def with_provider(self, provider: str, *, catalog: Catalog | None = None) -> Settings:
        """Alias of :meth:`for_provider`."""
        return self.for_provider(provider, catalog=catalog)

    def __repr__(self) -> str:
        return (f"Settings(provider={self.provider!r}, flavour={self.flavour!r}, endpoint={redact_url(self.endpoint)!r}, "
                f"api_key={self.masked_key!r}, api_version={self.api_version!r}, deployments={self.deployments!r})")

    __str__ = __repr__


def _layers(env: Mapping[str, str] | None, secrets: Mapping | None,
            dotenv_path: str | Path | None) -> list[tuple[str, Mapping]]:
    import os

    from dotenv import dotenv_values

    env_map: Mapping = os.environ if env is None else env
    path = Path(dotenv_path) if dotenv_path is not None else Path.cwd() / ".env"
    dotenv_map = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    secrets_map = {k: str(v) for k, v in (secrets or {}).items()
                   if isinstance(v, (str, int, float, bool)) and not isinstance(v, Mapping)}
    return [("env", env_map), (".env", dotenv_map), ("secrets", secrets_map)]


def _collect(layers: list[tuple[str, Mapping]]) -> dict[str, tuple[str, str]]:
    """setting -> (value, "layer:VARIABLE") for every setting found in some layer."""
    found: dict[str, tuple[str, str]] = {}
    for setting, names in VARIABLES.items():
        for layer, values in layers:
            hit = next(((n, str(values[n]).strip()) for n in names if str(values.get(n) or "").strip()), None)
            if hit:
                found[setting] = (hit[1], f"{layer}:{hit[0]}")
                break
    for setting in SECRET_SETTINGS:  # redacted from every message from now on, wherever they turn up
        if setting in found:
            register_secret(found[setting][0])
    return found


def _check_url(value: str, variable: str, example: str) -> str:
    # A key carried in the URL (?api-key=..., user:key@host) is redacted wherever the URL turns up from now on.
    register_url_secrets(value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # Never echo it: a value that is not a URL is often the key, pasted into the wrong variable.
        register_secret(value)
        looks_like_key = " " not in value and "/" not in value and len(value) >= 16
        hint = (" It looks like an API key: are the key and the URL swapped in your .env?" if looks_like_key else "")
        raise ConfigError(f"{variable} is not a URL (its value, {len(value)} characters, is not shown).{hint} "
                          f"Fix: set {variable} to a URL like {example}.")
    if "YOUR-RESOURCE" in value.upper():
        raise ConfigError(f"{variable} is still the placeholder {value!r}. "
                          f"Fix: set {variable} to your resource's URL, e.g. {example}.")
    return value


def parse_deployments(text: str, catalog: Catalog, variable: str = "IMAGEGEN_AZURE_DEPLOYMENTS") -> dict[str, str]:
    """``"dep=model,dep2=model2"`` -> ``{dep: canonical model id}``; ConfigError naming ``variable``."""
    out: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        dep, sep, model = (s.strip() for s in item.partition("="))
        if not sep or not dep or not model:
            raise ConfigError(f"{variable}: {item!r} is not DEPLOYMENT=MODEL. "
                              f"Fix: write {variable}=my-images=gpt-image-1.5,cheap=gpt-image-1-mini.")
        if not catalog.has_model(model):
            raise ConfigError(f"{variable}: model {model!r} (for deployment {dep!r}) is not a catalog model. "
                              f"Fix: use one of {', '.join(sorted(catalog.models))}.")
        out[dep] = catalog.model(model).id
    return out


def _resolve(raw: dict[str, tuple[str, str]], catalog: Catalog) -> Settings:
    def val(name: str) -> str | None:
        return raw[name][0] if name in raw else None

    sources = {name: src for name, (_, src) in raw.items()}
    requested = val("provider")
    if requested is not None and requested.lower() not in PROVIDER_CHOICES:
        raise ConfigError(f"IMAGEGEN_PROVIDER={requested!r} is not a provider. "
                          f"Fix: set IMAGEGEN_PROVIDER to one of {', '.join(PROVIDER_CHOICES[:3])} (or unset it).")
    use_entra = (val("use_entra_id") or "").lower() in TRUE_VALUES
    azure_ready = bool(val("azure_api_key") or val("azure_ad_token") or use_entra)
    if requested:
        provider = requested.lower()
        why = f"chosen by {sources['provider']}"
    elif azure_ready:
        provider, why = "azure", "an Azure OpenAI key/token is configured"
    elif val("openai_api_key"):
        provider, why = "openai", "OPENAI_API_KEY is configured"
    else:
        provider = "simulator"
        why = ("no API key found in environment variables, .env or Streamlit secrets: using the built-in "
               "simulator (in-process). Every figure it produces is simulated. Set OPENAI_API_KEY or "
               "AZURE_OPENAI_API_IMAGE_KEY to use a real service.")
    deployments: dict[str, str] = {}
    if val("deployments"):
        deployments = parse_deployments(val("deployments") or "", catalog)

    common = dict(sources=tuple(sorted(sources.items())), note=why)
    if provider == "simulator":
        # The simulator serves catalog ids and any mapped deployment; expose the mapping it will use.
        for model_id in catalog.models:
            deployments.setdefault(model_id, model_id)
        settings = Settings(provider="simulator", flavour="in-process",
                            deployment_pairs=tuple(sorted(deployments.items())), **common)
    elif provider in ("openai", "compatible"):
        key = val("openai_api_key")
        if not key:
            raise ConfigError("the OpenAI provider needs an API key. Fix: set OPENAI_API_KEY (environment, .env or "
                              "Streamlit secrets), or unset IMAGEGEN_PROVIDER to use the simulator.")
        base_url = val("openai_base_url")
        if base_url:
            _check_url(base_url, "OPENAI_BASE_URL", "https://api.openai.com/v1")
        is_openai = not base_url or urlsplit(base_url).netloc.lower() == "api.openai.com"
        if provider == "compatible" and is_openai:
            raise ConfigError("IMAGEGEN_PROVIDER=compatible needs an endpoint. Fix: set OPENAI_BASE_URL to the "
                              "compatible server's URL (ending in /v1).")
        settings = Settings(provider="openai" if is_openai else "compatible", flavour="openai", api_key=key,
                            base_url=(base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/"),
                            organization=val("organization"), project=val("project"), **common)
    else:
        settings = _resolve_azure(raw, val, deployments, catalog, use_entra, common)
    return replace(settings, raw=tuple((name, value, src) for name, (value, src) in sorted(raw.items())))


def _resolve_azure(raw, val, deployments: dict[str, str], catalog: Catalog, use_entra: bool, common: dict) -> Settings:
    key, token = val("azure_api_key"), val("azure_ad_token")
    if not (key or token or use_entra):
        raise ConfigError("the Azure provider needs credentials. Fix: set AZURE_OPENAI_API_IMAGE_KEY (or "
                          "AZURE_OPENAI_API_KEY), or AZURE_OPENAI_USE_ENTRA_ID=true with azure-identity installed.")
    base_url = val("azure_base_url")
    endpoint = val("azure_endpoint")
    if base_url:
        flavour = "v1"
        _check_url(base_url, "AZURE_OPENAI_BASE_URL", "https://RESOURCE.openai.azure.com/openai/v1/")
        if not urlsplit(base_url).path.rstrip("/").endswith("/openai/v1"):
            raise ConfigError(f"AZURE_OPENAI_BASE_URL={base_url!r} does not end in /openai/v1/. Fix: set it to "
                              "https://RESOURCE.openai.azure.com/openai/v1/ (or use AZURE_OPENAI_API_IMAGE_ENDPOINT "
                              "for the classic API).")
        base_url = base_url.rstrip("/") + "/"
    elif endpoint:
        name = raw["azure_endpoint"][1].split(":", 1)[1]
        _check_url(endpoint, name, "https://RESOURCE.openai.azure.com/")
        path = urlsplit(endpoint).path.rstrip("/")
        if path.endswith("/openai/v1"):
            flavour, base_url = "v1", endpoint.rstrip("/") + "/"
        elif path not in ("", "/openai"):
            raise ConfigError(f"{name}={endpoint!r} has a path ({path}). Fix: set {name} to the resource URL only, "
                              "e.g. https://RESOURCE.openai.azure.com/ (the deployment goes in "
                              "AZURE_OPENAI_API_IMAGE_MODEL).")
        else:
            flavour = "classic"
    else:
        raise ConfigError("the Azure provider needs an endpoint. Fix: set AZURE_OPENAI_API_IMAGE_ENDPOINT (or "
                          "AZURE_OPENAI_ENDPOINT) to https://RESOURCE.openai.azure.com/, or AZURE_OPENAI_BASE_URL "
                          "to https://RESOURCE.openai.azure.com/openai/v1/ for the v1 API.")
    api_version = val("api_version")
    sources = dict(common["sources"])
    if flavour == "classic" and not api_version:
        api_version = AZURE_DEFAULT_API_VERSION
        sources["api_version"] = "default"
    dep = val("azure_deployment")
    if dep and dep not in deployments:
        if catalog.has_model(dep):
            deployments[dep] = catalog.model(dep).id
        else:
            raise ConfigError(
                f"AZURE_OPENAI_API_IMAGE_MODEL={dep!r} names a deployment, and deployment names are arbitrary, so "
                f"the catalog model behind it is unknown. Fix: set IMAGEGEN_AZURE_DEPLOYMENTS={dep}=gpt-image-1.5 "
                "(the model you deployed).")
    if not deployments:
        raise ConfigError("no Azure deployment is configured. Fix: set AZURE_OPENAI_API_IMAGE_MODEL to your "
                          "deployment name, and IMAGEGEN_AZURE_DEPLOYMENTS=DEPLOYMENT=MODEL if it is not named "
                          "after a catalog model.")
    return Settings(
        provider="azure", flavour=flavour, api_key=key, base_url=base_url if flavour == "v1" else None,
        azure_endpoint=endpoint if flavour == "classic" else None, api_version=api_version,
        azure_ad_token=token, use_entra_id=use_entra, default_deployment=dep or next(iter(deployments)),
        deployment_pairs=tuple(sorted(deployments.items())),
        sources=tuple(sorted(sources.items())), note=common["note"],
    )


def load_settings(env: Mapping[str, str] | None = None, secrets: Mapping | None = None,
                  dotenv_path: str | Path | None = None, *, catalog: Catalog | None = None) -> Settings:
    """Read the configuration: environment (``env`` or ``os.environ``), then ``.env``, then ``secrets``.

    ``dotenv_path`` defaults to ``./.env`` (read only if it exists). ``secrets`` is a plain mapping
    of Streamlit secrets root keys. Raises ConfigError naming the variable to set when a setting
    is missing or wrong.
    """
    raw = _collect(_layers(env, secrets, dotenv_path))
    return _resolve(raw, catalog or default_catalog())
