"""`rlblocks migrate` run directories act exactly like the source libraries (in-process, fast).

The ground-truth files hold the deterministic actions stable-baselines3 and rl_games computed
(tests/data/checkpoints/README.md); the migrated agent in eval mode must reproduce them, with the
observation normalisation of rl_games carried over to the agent's state preprocessor.
"""

from __future__ import annotations

import pathlib

import pytest
import torch

from rlblocks.cli import registry
from rlblocks.cli.evaluate import load_agent
from rlblocks.cli.migrate import migrate

DATA = pathlib.Path(__file__).parents[1] / "data" / "checkpoints"
CASES = {
    "rlg_ppo_continuous_pendulum.pth": ("ppo", "outputs", "actions_deterministic"),
    "rlg_ppo_discrete_cartpole.pth": ("ppo", "outputs", "actions_deterministic"),
    "sb3_ppo_pendulum.zip": ("ppo", None, "predict_deterministic_actions"),
    "sb3_ppo_cartpole.zip": ("ppo", None, "predict_deterministic_actions"),
    "sb3_sac_pendulum.zip": ("sac", None, "predict_deterministic_actions"),
    "sb3_td3_pendulum.zip": ("td3", "outputs", "actions_squashed"),  # in [-1, 1]: times 2 below
    "sb3_ddpg_pendulum.zip": ("ddpg", None, "predict_deterministic_actions"),
    "sb3_dqn_cartpole.zip": ("dqn", None, "predict_deterministic_actions"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_migrated_run_reproduces_the_source_deterministic_actions(name, tmp_path):
    algo, section, key = CASES[name]
    if algo not in registry.available_algorithms():
        pytest.skip(f"no {algo} agent in this installation")
    result = migrate(str(DATA / name), run_dir=str(tmp_path / "run"))
    assert result.plan.algo == algo
    agent, *_ = load_agent(result.run_dir)
    truth = torch.load(DATA / name.replace(".zip", ".groundtruth.pt").replace(".pth", ".groundtruth.pt"),
                       weights_only=True)  # fmt: skip
    for observations, suffix in (("obs", ""), ("obs_ood", "_ood")):
        if observations not in truth:
            continue  # the TD3 fixture has no out-of-distribution batch
        expected = truth[section + suffix][key] if section else truth[key + suffix]
        if key == "actions_squashed":
            expected = 2.0 * expected  # Pendulum's torque bound
        with torch.no_grad():
            actions = agent.act(truth[observations], 0, 1)[0]
        torch.testing.assert_close(
            actions.reshape(expected.shape).double(), expected.double(), atol=1e-5, rtol=1e-6
        )
