"""Every ready config states its result in the form benchmarks/ready_configs.py re-measures.

The measurement itself is the benchmark (``.venv/bin/python benchmarks/ready_configs.py``); these
tests only check that each statement can be parsed and names the command that reproduces it.
"""

from __future__ import annotations

import pytest
import yaml

from benchmarks import ready_configs
from rlblocks.cli import config as run_config

STEMS = ready_configs.ready_config_stems()
VALID = "algo: dqn\nenv: CartPole-v1\n"


def test_the_benchmark_sees_every_ready_config_of_a_pair():
    pairs = [
        name for name in run_config.packaged_config_names() if run_config.packaged_config(name).get("env")
    ]
    assert pairs == STEMS and len(STEMS) >= 13


@pytest.mark.parametrize("stem", STEMS)
def test_each_ready_config_states_its_result_in_the_parseable_form(stem):
    claim = ready_configs.parse_claim(stem)
    content = run_config.packaged_config(stem)
    assert (claim.algo, claim.env) == (content["algo"], content["env"])
    assert run_config.pair_name(claim.algo, claim.env) == stem  # what `train --algo --env` loads
    if ready_configs.is_quick(claim.env):  # minutes on a CPU: the statement must be reproducible
        assert claim.episodes is not None, f"{stem}: state '# measured: eval <mean> ± <std> (...)'"
        assert claim.seed == content["seed"]
        assert claim.episodes >= 5 and claim.std >= 0
    else:
        assert claim.episodes is not None or claim.why


def test_a_statement_is_parsed_exactly():
    text = VALID + "# measured: eval -154.3 ± 96.12 (20 episodes, seed 3, rlblocks train defaults)\n"
    claim = ready_configs.parse_claim("dqn_CartPole-v1", text)
    assert (claim.mean, claim.std, claim.episodes, claim.seed) == (-154.3, 96.12, 20, 3)
    assert ready_configs.tolerance(claim) == pytest.approx(96.12)
    text = VALID + "# measured: not reproduced here (10M steps: days on a CPU)\n"
    assert ready_configs.parse_claim("dqn_CartPole-v1", text).why == "10M steps: days on a CPU"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("", "exactly one '# measured:' line, found 0"),
        ("# measured: eval 1 ± 0 (5 episodes, seed 0, rlblocks train defaults)\n" * 2, "found 2"),
        ("# measured: eval 500 +- 0 (5 episodes, seed 0, rlblocks train defaults)\n", "in neither form"),
        ("# measured: eval 500 ± 0 over 5 episodes\n", "in neither form"),
    ],
)
def test_a_malformed_statement_is_refused(lines, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ready_configs.parse_claim("dqn_CartPole-v1", VALID + lines)


def test_the_yaml_is_unchanged_by_the_statement():
    for stem in STEMS:  # a comment: the loaded config has no trace of it
        assert "measured" not in yaml.safe_dump(run_config.packaged_config(stem))
