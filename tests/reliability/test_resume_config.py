"""`rlblocks train --resume` refuses a run whose config.yaml is empty, invalid, cut short or describes
other models than the checkpoint's: one ``error:`` line naming what differs, exit status 2, no traceback,
and the run directory left as it was."""

from __future__ import annotations

import shutil

import pytest

from tests.cli.test_cli import rlblocks

SMALL_DQN = """\
algo: dqn
env: CartPole-v1
num_envs: 1
seed: 0
timesteps: 300
models:
  q_network:
    kind: deterministic
    hiddens: [16]
    hidden_activation: relu
    output_shape: ACTIONS
    output_activation: null
memory: {memory_size: 400}
agent:
  batch_size: 16
  learning_starts: 50
  experiment: {checkpoint_interval: 100}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A DQN CartPole run of 300 timesteps, checkpoints every 100."""
    workdir = tmp_path_factory.mktemp("resume_config")
    (workdir / "small.yaml").write_text(SMALL_DQN)
    rlblocks("train", "--config", "small.yaml", "--run-dir", "run", "--no-progress", cwd=workdir)
    return workdir / "run"


def truncate(text: str) -> str:
    return text[: text.index("agent:")]  # cut between two sections: still valid YAML


CASES = {
    "empty": (lambda text: "", "config.yaml' is empty"),
    "blank": (lambda text: "\n  \n", "config.yaml' is empty"),
    "invalid YAML": (
        lambda text: "algo: dqn\nenv: [CartPole\n",
        "config.yaml' is not valid YAML (while parsing",
    ),
    "cut short": (truncate, "does not end with the line '# end of config.yaml (rlblocks)'"),
    "other hiddens": (
        lambda text: text.replace("hiddens: [16]", "hiddens: [32]"),
        "q_network.net.0.weight is (16, 4) in the checkpoint, (32, 4) from the config",
    ),
    "another layer": (
        lambda text: text.replace("hiddens: [16]", "hiddens: [16, 16]"),
        "q_network.net.4.weight is in the config's model only",
    ),
    "another algorithm": (
        lambda text: text.replace("algo: dqn", "algo: ddqn"),
        "describes a DDQN agent, but",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_config_that_does_not_fit_the_run_is_refused_in_one_line(run, tmp_path, case):
    change, message = CASES[case]
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    config = copy / "config.yaml"
    config.write_text(change(config.read_text()))
    before = {path.name: path.read_bytes() for path in (copy / "checkpoints").iterdir()}
    written = config.read_bytes()
    result = rlblocks("train", "--resume", str(copy), "--no-progress", cwd=tmp_path, expect=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot resume"), result.stderr
    assert message in lines[0] and "Traceback" not in result.stdout + result.stderr
    assert config.read_bytes() == written  # not rewritten
    assert {path.name: path.read_bytes() for path in (copy / "checkpoints").iterdir()} == before


def test_the_saved_config_ends_with_its_end_line_and_resumes(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert (copy / "config.yaml").read_text().endswith("\n# end of config.yaml (rlblocks)\n")
    result = rlblocks("train", "--resume", str(copy), "--timesteps", "310", "--no-progress", cwd=tmp_path)
    assert "resumed at 300" in result.stdout
    assert (copy / "config.yaml").read_text().endswith("\n# end of config.yaml (rlblocks)\n")
    assert "timesteps: 310" in (copy / "config.yaml").read_text()
