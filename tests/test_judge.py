"""The automatic judge end to end on the simulator: estimate first, cost per call into the run's spend, labels."""

import json
from decimal import Decimal

import pytest

from imagegen.cli import main
from imagegen.errors import ConfigError, ProviderError
from imagegen.execution import judge
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.simulator import judge_route
from imagegen.execution.simulator.render import render
from imagegen.insight import quality
from imagegen.storage import votes as vs
from tests.quality_data import make_run


@pytest.fixture
def sim_env(monkeypatch, tmp_path):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_IMAGE_KEY",
                "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_IMAGE_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IMAGEGEN_PROVIDER", "simulator")
    monkeypatch.setenv("IMAGEGEN_DOTENV", str(tmp_path / "no.env"))


def test_rubric_is_versioned_data_and_validated(tmp_path):
    rubric = judge.load_rubric()
    assert rubric.version.startswith("rubric-") and "{prompt}" in rubric.user
    assert "a red fox" in rubric.user_text("a red fox")
    bad = tmp_path / "r.toml"
    bad.write_text('version = "x"\nsystem = "s"\nuser = "no prompt here"\nmax_output_tokens = 9\n'
                   '[criteria]\nadherence = "a"\ntext_rendering = "t"\nartifacts = "a"\n')
    with pytest.raises(ConfigError, match=r"no \{prompt\}"):
        judge.load_rubric(bad)


def test_unknown_judge_model_is_refused_before_sending():
    with pytest.raises(ConfigError, match="has no prices"):
        judge.judge_model("gpt-nope")


def test_simulated_judge_sees_the_quality_in_the_image():
    prompt = "a red fox"
    art = [judge_route.scores(render(prompt, 1024, 1024, quality=q), prompt)["artifacts"] for q in
           ("low", "medium", "high")]
    assert art == sorted(art) and art[0] < art[-1]
    assert judge_route.scores(render(prompt, 1024, 1024, quality="high"), prompt) == \
        judge_route.scores(render(prompt, 1024, 1024, quality="high"), prompt)  # deterministic


@pytest.mark.parametrize("flavour", ["openai", "azure", "azure_v1"])
def test_judge_route_through_the_real_sdk_on_every_flavour(flavour):
    provider = make_simulator_provider(flavour=flavour)
    answer = judge.judge_image(provider, judge.load_rubric(), "gpt-4.1-mini",
                               render("a sign that reads OPEN", 1024, 1024, quality="low"), "a sign that reads OPEN")
    assert answer["simulated"] is True and answer["input_tokens"] > judge_route.IMAGE_TOKENS
    assert set(answer["verdict"]) >= {"adherence", "text_rendering", "artifacts"}


def test_a_judge_answer_that_is_not_the_rubric_is_a_bad_response():
    with pytest.raises(ProviderError, match="not an integer 1..5") as info:
        judge._parse_verdict('{"adherence": 9, "text_rendering": 3, "artifacts": 3}', "judge")
    assert info.value.kind == "bad_response"


def test_judge_end_to_end_cost_in_run_totals_and_labels(tmp_path, sim_env, capsys):
    store, run_id = make_run(tmp_path / "home")
    before = Decimal(store.run(run_id)["cost_usd"])
    home = str(store.home)
    assert main(["judge", run_id, "--estimate", "--home", home]) == 0
    first = capsys.readouterr().out
    assert "judge: gpt-4.1-mini on simulator: 12 of 12 images" in first and "estimated at most" in first
    assert vs.judge_scores(store, [run_id]).empty  # an estimate sends nothing
    assert main(["judge", run_id, "--home", home]) == 0
    scored = capsys.readouterr().out
    assert "scored 12 images (simulated)" in scored and "(judge prices assumed)" in scored
    scores = vs.judge_scores(store, [run_id])
    assert len(scores) == 12 and set(scores["judge"]) == {"judge: gpt-4.1-mini"}
    assert set(scores["prompt_version"]) == {judge.load_rubric().version} and set(scores["simulated"]) == {1}
    spent = sum((Decimal(c) for c in scores["cost_usd"]), Decimal(0))
    assert spent > 0 and Decimal(store.run(run_id)["cost_usd"]) == before + spent
    # the cost per call is what usage says, and never above the estimate
    assert all(Decimal(c) <= Decimal(e) for c, e in zip(scores["cost_usd"], scores["estimated_cost_usd"]))
    # a second pass has nothing left to do (same judge, same rubric version)
    assert main(["judge", run_id, "--home", home]) == 0
    assert "0 of 12 images" in capsys.readouterr().out
    # rank shows the judge apart, labelled as the judge's, its cost with the prices' status
    assert main(["rank", run_id, "--home", home, "--replicates", "20"]) == 0
    assert "(judge prices assumed)" in capsys.readouterr().out
    assert main(["rank", run_id, "--json", "--home", home, "--replicates", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    j = out["judges"]["judge: gpt-4.1-mini"]
    assert j["figures"] == "simulated" and j["prompt_version"] == judge.load_rubric().version
    assert out["votes"] == 0  # no human votes were invented from judge scores
    pool = quality.load_pool(store, [run_id])
    highs = [v["mean_overall"] for s, v in j["scores"].items() if "· high ·" in s]
    lows = [v["mean_overall"] for s, v in j["scores"].items() if "· low ·" in s]
    assert min(highs) > max(lows) and len(pool.settings) == 6
