"""The README's facts match the catalog, and CI runs the README's test command verbatim."""

import re
from pathlib import Path

from imagegen.core.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_facts_as_of_is_the_catalogs_oldest_check():
    (stated,) = re.findall(r"Facts as of (\d{4}-\d{2}-\d{2})", README)
    assert stated == default_catalog().oldest_check().isoformat()


def test_ci_runs_the_readme_test_command_verbatim_with_the_clock_moved():
    block = README.split("**Run the whole test suite**", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert block in ci
    assert re.search(r"&& IMAGEGEN_TEST_CLOCK=\+(\d+)d \S+python -m pytest -q -m \"not e2e and not soak\" -n 2$", block)
    assert int(re.search(r"IMAGEGEN_TEST_CLOCK=\+(\d+)d", block).group(1)) >= 400


def test_the_preference_order_in_the_readme_is_the_datas():
    first = default_catalog().preference["openai"][0]
    assert f"runs on OpenAI that day: {first} on 2026-12-01" in README
