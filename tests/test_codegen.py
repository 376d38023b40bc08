"""imagegen.insight.codegen: the generated Python and curl send exactly the request the cell sent, with no key."""

import ast
import json
import shlex
from datetime import date

import pytest

from imagegen.core import lifecycle
from imagegen.core.catalog import default_catalog
from imagegen.core.request import ImageRequest
from imagegen.execution.settings import load_settings
from imagegen.insight.codegen import (
    DEPLOYMENT_PLACEHOLDER,
    FLAVOURS,
    curl_command,
    env_names,
    python_code,
    request_of,
    snippets,
    wire_body,
)
from tests.clock import TODAY

CATALOG = default_catalog()
PROMPT = "F1レーサーを'躍動感'あるように描いて。 \"quotes\" and $HOME"
REQ = ImageRequest(model="gpt-image-1.5", prompt=PROMPT, provider="azure", deployment="my-images", quality="high",
                   size="1536x1024", output_format="jpeg", output_compression=40)


def call_kwargs(code: str) -> tuple[str, dict]:
    """(method name, literal keyword arguments) of the images.generate/edit call in the code."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("generate",
                                                                                                      "edit"):
            kwargs = {}
            for kw in node.keywords:
                try:
                    kwargs[kw.arg] = ast.literal_eval(kw.value)
                except ValueError:
                    kwargs[kw.arg] = ast.unparse(kw.value)
            return node.func.attr, kwargs
    raise AssertionError("no images call found")


def client_call(code: str) -> tuple[str, dict]:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("OpenAI", "AzureOpenAI"):
            return node.func.id, {kw.arg: ast.unparse(kw.value) for kw in node.keywords}
    raise AssertionError("no client found")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_python_sends_the_wire_body(flavour):
    code = python_code(REQ, flavour)
    compile(code, "<generated>", "exec")
    method, kwargs = call_kwargs(code)
    assert method == "generate"
    assert kwargs == wire_body(REQ, flavour)
    assert kwargs["prompt"] == PROMPT  # Japanese and quotes survive


def test_model_is_the_catalog_id_on_openai_and_the_deployment_on_azure():
    assert wire_body(REQ, "openai")["model"] == "gpt-image-1.5"
    assert wire_body(REQ, "azure")["model"] == "my-images"
    assert wire_body(REQ, "azure_v1")["model"] == "my-images"
    plain = REQ.with_(deployment=None)
    assert wire_body(plain, "azure", {"deployments": {"cheap": "gpt-image-1-mini", "mine": "gpt-image-1.5"}})["model"] \
        == "mine"
    assert wire_body(plain, "azure")["model"] == DEPLOYMENT_PLACEHOLDER


def test_clients_per_flavour():
    name, kw = client_call(python_code(REQ, "azure", {"api_version": "2024-99-01-preview"}))
    assert name == "AzureOpenAI" and kw["api_version"] == "'2024-99-01-preview'"
    assert "AZURE_OPENAI_ENDPOINT" in kw["azure_endpoint"] and "AZURE_OPENAI_API_KEY" in kw["api_key"]
    name, kw = client_call(python_code(REQ, "azure_v1"))
    assert name == "OpenAI" and "AZURE_OPENAI_BASE_URL" in kw["base_url"]  # v1: the plain client
    name, kw = client_call(python_code(REQ, "openai"))
    assert name == "OpenAI" and kw == {}  # reads OPENAI_API_KEY itself


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_curl_sends_the_wire_body(flavour):
    cmd = curl_command(REQ, flavour)
    words = shlex.split(cmd.split("|")[0].replace("\\\n", " "))
    body = json.loads(words[words.index("-d") + 1])
    assert body == wire_body(REQ, flavour)
    url = words[2]
    if flavour == "azure":
        assert url.endswith("/openai/deployments/my-images/images/generations?api-version=2025-04-01-preview")
        assert "api-key: $AZURE_OPENAI_API_KEY" in words
    elif flavour == "azure_v1":
        assert url == "${AZURE_OPENAI_BASE_URL%/}/images/generations"
    else:
        assert url == "${OPENAI_BASE_URL:-https://api.openai.com/v1}/images/generations"
        assert "Authorization: Bearer $OPENAI_API_KEY" in words
    assert cmd.rstrip().endswith("> image.jpeg")


def test_streaming_and_edits():
    req = REQ.with_(stream=True, partial_images=2, operation="edit", input_images=((1024, 1024), (512, 512)))
    code = python_code(req, "openai")
    method, kwargs = call_kwargs(code)
    assert method == "edit" and kwargs["stream"] is True and kwargs["partial_images"] == 2
    assert "moderation" not in kwargs  # edits take no moderation
    assert "image_edit.completed" in code and kwargs["image"].count("open(") == 2
    cmd = curl_command(req, "azure")
    assert "/images/edits?api-version=" in cmd and "-N " in cmd
    words = shlex.split(cmd.replace("\\\n", " ").split("  #")[0])
    assert "image[]=@input-2.png" in words and f"prompt={PROMPT}" in words  # --form-string keeps it literal


def test_env_names_follow_the_variables_the_user_set(tmp_path):
    settings = load_settings(env={"AZURE_OPENAI_API_IMAGE_KEY": "secret-key-123456789",
                                  "AZURE_OPENAI_API_IMAGE_ENDPOINT": "https://res.openai.azure.com/",
                                  "AZURE_OPENAI_API_IMAGE_MODEL": "gpt-image-1.5"},
                             dotenv_path=tmp_path / "none.env")
    info = settings.describe()
    assert env_names("azure", info) == {"key": "AZURE_OPENAI_API_IMAGE_KEY", "url": "AZURE_OPENAI_API_IMAGE_ENDPOINT"}
    req = ImageRequest(model="gpt-image-1.5", prompt="fox", provider="azure", deployment="gpt-image-1.5")
    everything = "\n".join(s.code for s in snippets(req, info, catalog=CATALOG, today=TODAY))
    assert "secret-key-123456789" not in everything and "6789" not in everything  # never the key
    assert 'os.environ["AZURE_OPENAI_API_IMAGE_KEY"]' in everything
    assert snippets(req, info, catalog=CATALOG, today=TODAY)[0].label.startswith("Python · Azure OpenAI (classic)")


def test_snippets_cover_every_flavour_in_python_and_curl():
    items = snippets(REQ.with_(provider="openai", deployment=None), None, catalog=CATALOG, today=TODAY)
    assert [s.language for s in items] == ["python"] * 3 + ["bash"] * 3
    assert items[0].label == "Python · OpenAI"
    with pytest.raises(ValueError, match="flavour"):
        python_code(REQ, "gcp")


def test_code_for_a_provider_that_shut_the_model_down_says_so():
    req = ImageRequest(model="gpt-image-1.5", prompt="fox", provider="openai", quality="low", size="1024x1024")
    before = snippets(req, None, catalog=CATALOG, today=date(2026, 11, 30))
    assert all(s.warning == "" and "WARNING" not in s.code for s in before)  # still live on both that day
    items = {s.label: s for s in snippets(req, None, catalog=CATALOG, today=date(2026, 12, 1))}
    openai = items["Python · OpenAI"]
    assert openai.warning == ("gpt-image-1.5 was shut down on openai on 2026-12-01; successor: gpt-image-2.6-sunburst. "
                              "This code would be refused there on 2026-12-01. Use gpt-image-2.6-sunburst instead.")
    assert openai.code.startswith(f"# WARNING: {openai.warning}\n") and 'model="gpt-image-1.5"' in openai.code
    assert items["curl · OpenAI"].warning == openai.warning
    assert items["Python · Azure OpenAI (classic)"].warning == ""  # Azure runs it until 2027-06-16
    assert lifecycle.status(CATALOG, "gpt-image-1.5", "azure", date(2026, 12, 1)).runnable


def test_complexity_reaches_the_code_and_the_sdk_call():
    from imagegen.execution.providers import make_simulator_provider

    req = ImageRequest("gpt-image-2.6-flare", "a poster", quality="high", size="1024x1024", complexity="low")
    assert "complexity='low'" in python_code(req) or 'complexity="low"' in python_code(req)
    assert '"complexity": "low"' in curl_command(req)
    provider = make_simulator_provider({"fixed_latency_s": 0.0})
    provider.generate(req, timeout=10)
    assert provider.app.requests[-1].body["complexity"] == "low"  # sent by the real openai SDK


def test_edit_code_sends_the_runs_input_files_and_mask():
    req = ImageRequest(model="gpt-image-1.5", prompt="hat", provider="openai", operation="edit",
                       input_fidelity="high", input_images=((1024, 1024), (512, 512)), quality="low", size="1024x1024")
    code = python_code(req, "openai", inputs=("product.png", "result:12"), mask="mask-painted.png")
    assert 'image=[open("product.png", "rb"), open("result-12.png", "rb")]' in code
    assert 'mask=open("mask-painted.png", "rb")' in code and "client.images.edit(" in code
    compile(code, "edit.py", "exec")
    cmd = curl_command(req, "openai", inputs=("product.png",), mask="m.png")
    assert "-F 'image[]=@product.png'" in cmd and "-F 'image[]=@input-2.png'" in cmd and "-F 'mask=@m.png'" in cmd
    assert "/images/edits" in cmd and "--form-string 'input_fidelity=high'" in cmd
    without = python_code(req, "openai")
    assert "mask=" not in without and 'open("input-1.png", "rb"), open("input-2.png", "rb")' in without


def test_request_of_reads_a_stored_row_back_as_its_request():
    """'View code' on Results: a row as the store gives it (floats for integers, NaN/None for NULL)."""
    nan = float("nan")
    row = {"model": "gpt-image-2", "prompt": "a fox", "provider": "openai", "size": "1024x1024", "quality": "low",
           "background": None, "output_format": "webp", "output_compression": 80.0, "moderation": None, "n": 2.0,
           "stream": 1, "partial_images": nan, "deployment": nan, "operation": "edit", "input_fidelity": "high",
           "input_sizes": ["1024x1024"]}
    req = request_of(row)
    assert (req.model, req.prompt, req.provider, req.size, req.quality) == ("gpt-image-2", "a fox", "openai",
                                                                            "1024x1024", "low")
    assert (req.background, req.moderation, req.output_format, req.output_compression) == ("auto", "auto", "webp", 80)
    assert (req.n, req.stream, req.partial_images, req.deployment) == (2, True, 0, None)
    assert (req.operation, req.input_fidelity, req.input_images) == ("edit", "high", ("1024x1024",))
    bare = request_of({"model": "gpt-image-2", "provider": "azure", "deployment": "img", "operation": "variation"})
    assert (bare.deployment, bare.operation, bare.n, bare.output_format, bare.stream) == ("img", "generate", 1,
                                                                                          "png", False)


def test_view_code_of_a_stored_gpt_image_2_6_row_keeps_its_complexity():
    """A 2.6 result made with complexity = "high" must be shown with it: without it the snippet asks for another
    (cheaper) image than the one on screen."""
    row = {"model": "gpt-image-2.6-flare", "prompt": "a fox", "provider": "openai", "size": "1024x1024",
           "quality": "high", "complexity": "high", "n": 1.0}
    req = request_of(row)
    assert req.complexity == "high"
    assert 'complexity="high"' in python_code(req, "openai")
    assert request_of({**row, "complexity": None}).complexity is None
    assert request_of({**row, "complexity": float("nan")}).complexity is None  # NULL as pandas gives it
