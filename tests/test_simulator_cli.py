"""``python -m imagegen simulator``: a real process serving the Images API on a free port."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from imagegen.cli import build_parser
from imagegen.core.request import ImageRequest
from imagegen.execution.providers.openai_api import OpenAIProvider


def test_parser_registers_the_simulator_command():
    args = build_parser().parse_args(["simulator", "--port", "0", "--time-scale", "0.5", "--latency", "0.1"])
    assert (args.port, args.time_scale, args.latency) == (0, 0.5, 0.1)


def test_serves_over_http_in_a_separate_process():
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-m", "imagegen", "simulator", "--port", "0", "--latency", "0"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        g = OpenAIProvider("sk-anything", base_url=f"{url}/v1").generate(
            ImageRequest(model="gpt-image-1", prompt="x", quality="low", size="1024x1024", provider="compatible"),
            timeout=10)
        assert g.simulated and g.usage["output_tokens"] == 272
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stderr.close()


def test_deployments_from_env_and_flags():
    from imagegen.execution.simulator.cli import _deployments

    assert _deployments(["b=gpt-image-1-mini"], "a=gpt-image-1.5, b=gpt-image-2") == {
        "a": "gpt-image-1.5", "b": "gpt-image-1-mini"}
    assert _deployments([], "") == {}
    with pytest.raises(SystemExit, match="NAME=MODEL"):
        _deployments(["oops"], "")
