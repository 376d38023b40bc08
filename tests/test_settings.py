"""Settings: layers (env > .env > secrets), seed names, provider choice, masking, errors naming variables."""

from __future__ import annotations

import os

import pytest

from imagegen.errors import ConfigError
from imagegen.execution.settings import Settings, load_settings, mask

SEED_AZURE = {
    "AZURE_OPENAI_API_IMAGE_KEY": "azure-key-0000wxyz",
    "AZURE_OPENAI_API_IMAGE_ENDPOINT": "https://res.openai.azure.com/",
    "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5",
    "AZURE_OPENAI_API_VERSION": "2025-04-01-preview",
}


def test_no_key_anywhere_is_the_in_process_simulator_and_says_so(no_dotenv):
    s = load_settings(env={}, secrets={}, dotenv_path=no_dotenv)
    assert s.provider == "simulator" and s.simulated
    d = s.describe()
    assert d["simulated"] is True and d["endpoint"] == "in-process simulator"
    assert "simulator" in d["note"] and "no API key" in d["note"]
    assert d["api_key"] is None


def test_untouched_env_example_configures_nothing(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", ".env.example")
    s = load_settings(env={}, dotenv_path=example)
    assert s.provider == "simulator"


def test_seed_names_work_unchanged(no_dotenv):
    s = load_settings(env=SEED_AZURE, dotenv_path=no_dotenv)
    assert (s.provider, s.flavour) == ("azure", "classic")
    assert s.azure_endpoint == "https://res.openai.azure.com/"
    assert s.api_version == "2025-04-01-preview"
    assert s.deployments == {"gpt-image-1.5": "gpt-image-1.5"}
    assert s.default_deployment == "gpt-image-1.5"
    assert s.source_of("azure_api_key") == "env:AZURE_OPENAI_API_IMAGE_KEY"


def test_sdk_standard_names(no_dotenv):
    env = {"AZURE_OPENAI_API_KEY": "k-12345678", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
           "OPENAI_API_VERSION": "2025-04-01-preview", "IMAGEGEN_AZURE_DEPLOYMENTS": "pics=gpt-image-1-mini"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert s.provider == "azure" and s.deployments == {"pics": "gpt-image-1-mini"}
    assert s.deployment_for("gpt-image-1-mini") == "pics"


def test_precedence_env_then_dotenv_then_secrets(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPENAI_API_KEY=from-dotenv-1111\nOPENAI_ORG_ID=org-dotenv\n", encoding="utf-8")
    secrets = {"OPENAI_API_KEY": "from-secrets-2222", "OPENAI_PROJECT_ID": "proj-secrets", "nested": {"a": 1}}
    s = load_settings(env={"OPENAI_API_KEY": "from-env-3333"}, secrets=secrets, dotenv_path=dotenv)
    assert s.api_key == "from-env-3333" and s.source_of("openai_api_key") == "env:OPENAI_API_KEY"
    assert s.organization == "org-dotenv" and s.source_of("organization") == ".env:OPENAI_ORG_ID"
    assert s.project == "proj-secrets" and s.source_of("project") == "secrets:OPENAI_PROJECT_ID"
    s2 = load_settings(env={}, secrets=secrets, dotenv_path=dotenv)
    assert s2.api_key == "from-dotenv-1111"
    s3 = load_settings(env={}, secrets=secrets, dotenv_path=tmp_path / "none")
    assert s3.api_key == "from-secrets-2222"


def test_dotenv_never_mutates_os_environ(tmp_path, monkeypatch):
    monkeypatch.delenv("IMAGEGEN_TEST_ONLY_VAR", raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("IMAGEGEN_TEST_ONLY_VAR=x\nOPENAI_API_KEY=sk-abcdefgh\n", encoding="utf-8")
    load_settings(env={}, dotenv_path=dotenv)
    assert "IMAGEGEN_TEST_ONLY_VAR" not in os.environ


def test_keys_never_in_repr_str_or_describe(no_dotenv):
    secret = "fake-supersecret-value-9876"
    s = load_settings(env={"OPENAI_API_KEY": secret}, dotenv_path=no_dotenv)
    for text in (repr(s), str(s), str(s.describe())):
        assert secret not in text
    assert s.masked_key == "…9876" and s.describe()["api_key"] == "…9876"
    assert mask("short") == "…" and mask(None) is None
    hash(s)  # frozen and hashable (usable as a cache key)


def test_openai_default_and_compatible(no_dotenv):
    s = load_settings(env={"OPENAI_API_KEY": "sk-aaaaaaaa"}, dotenv_path=no_dotenv)
    assert (s.provider, s.base_url) == ("openai", "https://api.openai.com/v1")
    c = load_settings(env={"OPENAI_API_KEY": "sk-aaaaaaaa", "OPENAI_BASE_URL": "http://localhost:9000/v1"},
                      dotenv_path=no_dotenv)
    assert c.provider == "compatible" and c.endpoint == "http://localhost:9000/v1"


def test_azure_v1_base_url(no_dotenv):
    env = {"AZURE_OPENAI_API_KEY": "k-12345678", "AZURE_OPENAI_BASE_URL": "https://r.openai.azure.com/openai/v1",
           "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert (s.flavour, s.base_url, s.api_version) == ("v1", "https://r.openai.azure.com/openai/v1/", None)
    assert s.describe()["flavour"] == "v1"


def test_explicit_provider_wins_over_inference(no_dotenv):
    env = {**SEED_AZURE, "OPENAI_API_KEY": "sk-aaaaaaaa", "IMAGEGEN_PROVIDER": "openai"}
    assert load_settings(env=env, dotenv_path=no_dotenv).provider == "openai"
    env["IMAGEGEN_PROVIDER"] = "simulator"
    assert load_settings(env=env, dotenv_path=no_dotenv).provider == "simulator"


def test_for_provider_switches_with_the_same_layers(no_dotenv):
    env = {**SEED_AZURE, "OPENAI_API_KEY": "sk-aaaaaaaa"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert s.provider == "azure"
    assert s.for_provider("openai").provider == "openai"
    assert s.with_provider("simulator").simulated


@pytest.mark.parametrize(("env", "variable"), [
    ({"IMAGEGEN_PROVIDER": "dalle"}, "IMAGEGEN_PROVIDER"),
    ({"IMAGEGEN_PROVIDER": "openai"}, "OPENAI_API_KEY"),
    ({"IMAGEGEN_PROVIDER": "azure"}, "AZURE_OPENAI_API_IMAGE_KEY"),
    ({"AZURE_OPENAI_API_IMAGE_KEY": "k-12345678"}, "AZURE_OPENAI_API_IMAGE_ENDPOINT"),
    ({**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_MODEL": "my-images"}, "IMAGEGEN_AZURE_DEPLOYMENTS"),
    ({**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_ENDPOINT": "res.openai.azure.com"}, "AZURE_OPENAI_API_IMAGE_ENDPOINT"),
    ({**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_ENDPOINT": "https://YOUR-RESOURCE.openai.azure.com/"},
     "AZURE_OPENAI_API_IMAGE_ENDPOINT"),
    ({**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_ENDPOINT": "https://r.openai.azure.com/openai/deployments/x/images"},
     "AZURE_OPENAI_API_IMAGE_ENDPOINT"),
    ({"AZURE_OPENAI_API_KEY": "k-12345678", "AZURE_OPENAI_BASE_URL": "https://r.openai.azure.com/v2/"},
     "AZURE_OPENAI_BASE_URL"),
    ({**SEED_AZURE, "IMAGEGEN_AZURE_DEPLOYMENTS": "pics"}, "IMAGEGEN_AZURE_DEPLOYMENTS"),
    ({**SEED_AZURE, "IMAGEGEN_AZURE_DEPLOYMENTS": "pics=dall-e-9"}, "IMAGEGEN_AZURE_DEPLOYMENTS"),
    ({"OPENAI_API_KEY": "sk-aaaaaaaa", "OPENAI_BASE_URL": "not a url"}, "OPENAI_BASE_URL"),
    ({"OPENAI_API_KEY": "sk-aaaaaaaa", "IMAGEGEN_PROVIDER": "compatible"}, "OPENAI_BASE_URL"),
])
def test_missing_or_wrong_setting_names_the_variable(env, variable, no_dotenv):
    with pytest.raises(ConfigError) as info:
        load_settings(env=env, dotenv_path=no_dotenv)
    assert variable in str(info.value) and "Fix" in str(info.value)


def test_seed_deployment_mapped_by_variable(no_dotenv):
    env = {**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_MODEL": "my-images",
           "IMAGEGEN_AZURE_DEPLOYMENTS": "my-images=gpt-image-1.5,cheap=gpt-image-1-mini"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert s.deployments == {"my-images": "gpt-image-1.5", "cheap": "gpt-image-1-mini"}
    assert s.deployment_for("gpt-image-1.5") == "my-images"
    assert s.model_for("cheap") == "gpt-image-1-mini"
    with pytest.raises(ConfigError, match="IMAGEGEN_AZURE_DEPLOYMENTS"):
        s.deployment_for("gpt-image-2")
    with pytest.raises(ConfigError, match="IMAGEGEN_AZURE_DEPLOYMENTS"):
        s.model_for("unknown-dep")


def test_dated_alias_as_deployment_maps_to_canonical_model(no_dotenv):
    env = {**SEED_AZURE, "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1-2025-04-15"}
    assert load_settings(env=env, dotenv_path=no_dotenv).deployments == {"gpt-image-1-2025-04-15": "gpt-image-1"}


def test_entra_id_and_ad_token(no_dotenv):
    env = {"AZURE_OPENAI_USE_ENTRA_ID": "true", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com/",
           "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert s.provider == "azure" and s.auth == "entra-id" and s.api_key is None
    env = {"AZURE_OPENAI_AD_TOKEN": "eyJtoken-abcd", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com/",
           "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5"}
    s = load_settings(env=env, dotenv_path=no_dotenv)
    assert s.auth == "ad-token" and "eyJtoken-abcd" not in repr(s.describe())


def test_settings_default_is_simulator():
    assert Settings().provider == "simulator"
