"""The README's "money and runners" reliability row, as a test: the kill -9 soak (20 cycles against our
own billing endpoint), two concurrent CLI resumes, a 3x-billing endpoint and the refusals."""

import pytest

from bench.reliability_cases import money


@pytest.mark.slow
@pytest.mark.soak
def test_every_money_case_holds(tmp_path):
    results = money.run(tmp_path)
    assert [r.name for r in results if not r.held] == [], [r.problems for r in results]
    soak = next(r for r in results if r.name.startswith("kill -9"))
    assert int(soak.figures["kills"]) >= 20 and soak.figures["cells_sent_twice"] == "0"
    assert soak.figures["completed_images_lost"] == "0" and soak.figures["billed_within_cap"] == "True"
