"""Agent checkpoints: a resume gets everything back; files are written atomically and loaded safely."""

import os

import gymnasium as gym
import pytest
import torch

from rlblocks.agents.torch.base import latest_checkpoint
from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.trainers.torch import SequentialTrainer
from rlblocks.utils.checkpoint import CheckpointError
from tests.helpers.models import GaussianPolicy, Value


def pendulum():
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)


def make_agent(env, directory, checkpoint_interval=16):
    cfg = {
        "rollouts": 8,
        "learning_epochs": 2,
        "mini_batches": 2,
        "learning_rate": 3e-3,
        "state_preprocessor": RunningStandardScaler,
        "value_preprocessor": RunningStandardScaler,
        "learning_rate_scheduler": KLAdaptiveRL,
        "learning_rate_scheduler_kwargs": {"kl_threshold": 1e-6},
        "experiment": {
            "directory": str(directory),
            "experiment_name": "run",
            "write_interval": 8,
            "checkpoint_interval": checkpoint_interval,
        },
    }
    models = {
        "policy": GaussianPolicy(env.observation_space, env.action_space, hidden=(16,)),
        "value": Value(env.observation_space, env.action_space, hidden=(16,)),
    }
    return PPO(models, RandomMemory(8, env.num_envs), env.observation_space, env.action_space, "cpu", cfg)


def trainer(env, agent, timesteps, resume=False):
    cfg = {
        "timesteps": timesteps,
        "headless": True,
        "disable_progressbar": True,
        "resume": resume,
        "close_environment_at_exit": False,
    }
    return SequentialTrainer(env, agent, cfg=cfg)


def assert_state_equal(left, right):
    if torch.is_tensor(left):
        assert torch.equal(left, right)
    elif isinstance(left, dict):
        assert left.keys() == right.keys()
        for key in left:
            assert_state_equal(left[key], right[key])
    elif isinstance(left, (list, tuple)):
        assert len(left) == len(right)
        for a, b in zip(left, right):
            assert_state_equal(a, b)
    else:
        assert left == right


def test_resumed_agent_equals_the_saved_one_and_continues_from_its_timestep(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    trainer(env, agent, 32).train()
    path = latest_checkpoint(os.path.join(tmp_path, "run"))
    assert os.path.basename(path) == "agent_32.pt"
    saved = torch.load(path, weights_only=True)

    resumed = make_agent(env, tmp_path / "resumed")
    resumed.load(path)
    assert resumed.timestep == 32
    for name in ("policy", "value", "optimizer", "scheduler", "state_preprocessor", "value_preprocessor"):
        assert_state_equal(resumed.checkpoint_modules[name].state_dict(), saved[name])
    assert resumed.optimizer.state_dict()["state"][0]["exp_avg_sq"].abs().sum() > 0
    assert resumed._state_preprocessor.current_count.item() > 1
    lr = resumed.optimizer.param_groups[0]["lr"]
    assert lr == agent.optimizer.param_groups[0]["lr"] and lr < 3e-3  # the KL scheduler moved it

    seen_timesteps = []
    original_post = resumed.post_interaction
    resumed.post_interaction = lambda timestep, timesteps: (
        seen_timesteps.append(timestep),
        original_post(timestep, timesteps),
    )
    trainer(env, resumed, 48, resume=True).train()
    assert seen_timesteps[0] == 32 and seen_timesteps[-1] == 47
    assert resumed.timestep == 48
    assert os.path.exists(tmp_path / "resumed" / "run" / "checkpoints" / "agent_48.pt")


def test_save_then_load_restores_actions_under_the_same_seed(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    trainer(env, agent, 16).train()
    agent.save(str(tmp_path / "agent.pt"))
    other = make_agent(env, tmp_path / "other")
    other.load(str(tmp_path / "agent.pt"))
    states = torch.randn(4, 3)
    agent.set_running_mode("eval")
    other.set_running_mode("eval")
    assert torch.equal(agent.act(states, 0, 1)[0], other.act(states, 0, 1)[0])


def test_checkpoint_holds_rng_states_and_restores_them(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    agent.init()
    agent.save(str(tmp_path / "agent.pt"))
    expected = torch.rand(3)
    agent.load(str(tmp_path / "agent.pt"))
    assert torch.equal(torch.rand(3), expected)


def test_loading_a_model_state_dict_as_an_agent_is_a_clear_error(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    agent.policy.save(str(tmp_path / "policy.pt"))
    with pytest.raises(CheckpointError, match="is not a checkpoint of this agent"):
        agent.load(str(tmp_path / "policy.pt"))
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        agent.load(str(tmp_path / "broken.pt"))


def test_best_checkpoint_and_tensorboard_events_are_written(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path, checkpoint_interval=200)
    trainer(env, agent, 400).train()
    run = tmp_path / "run"
    assert (run / "checkpoints" / "best_agent.pt").exists()
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run))
    assert not any(name.startswith(".tmp-") for name in os.listdir(run / "checkpoints"))


def test_a_resumed_run_keeps_its_best_score_and_replaces_the_recent_returns(tmp_path):
    """After a resume, best_agent.pt is rewritten only by an agent better than the run's best so far."""
    env = pendulum()
    agent = make_agent(env, tmp_path)
    agent.episode_statistics.restore_recent_returns([-100.0, -200.0])  # recent mean -150
    agent.write_checkpoint(16, 32)
    best = tmp_path / "run" / "checkpoints" / "best_agent.pt"
    written = best.read_bytes()
    resumed = make_agent(env, tmp_path)
    resumed.episode_statistics.restore_recent_returns([-900.0])  # returns it had before the load
    resumed.load(str(tmp_path / "run" / "checkpoints" / "agent_16.pt"))
    assert resumed.episode_statistics.recent_returns == [-100.0, -200.0]
    resumed.episode_statistics.restore_recent_returns([-1000.0] * 100)  # a worse agent
    resumed.write_checkpoint(32, 32)
    assert best.read_bytes() == written
    resumed.episode_statistics.restore_recent_returns([-10.0] * 100)  # a better one
    resumed.write_checkpoint(48, 64)
    assert best.read_bytes() != written


def snapshot(agent):
    return {
        name: {key: value.clone() for key, value in module.state_dict().items()}
        for name, module in agent.checkpoint_modules.items()
        if isinstance(module, torch.nn.Module)
    }


def other_widths_agent(env, directory, hidden):
    agent = make_agent(env, directory)
    models = {
        "policy": GaussianPolicy(env.observation_space, env.action_space, hidden=hidden),
        "value": Value(env.observation_space, env.action_space, hidden=hidden),
    }
    return PPO(
        models, RandomMemory(8, env.num_envs), env.observation_space, env.action_space, "cpu", agent.cfg
    )


def corrupt(path, edit):
    """Edit a checkpoint's content as a file without a digest (older rlblocks) would hold it."""
    content = torch.load(path, weights_only=True)
    edit(content)
    content["_rlblocks"].pop("digest")
    torch.save(content, path)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_shapes", r"does not fit this agent's 'policy'.*size mismatch"),
        ("another_networks_optimizer", r"does not fit this agent's 'optimizer'.*optimizer state"),
        ("malformed_rng_state", r"does not fit this agent's 'rng_states'"),
        ("bad_timestep", r"malformed timestep -3"),
        ("bad_recent_returns", r"malformed recent returns"),
    ],
)
def test_a_failed_load_leaves_the_agent_unchanged_and_names_the_file_and_the_module(tmp_path, case, message):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    path = str(tmp_path / "saved.pt")
    agent.save(path)
    if case == "wrong_shapes":
        other_widths_agent(env, tmp_path, hidden=(8,)).save(path)
    elif case == "another_networks_optimizer":
        other = other_widths_agent(env, tmp_path, hidden=(8,))
        trainer(env, other, 8).train()  # one update: Adam holds moments shaped like the 8-unit network
        content = agent.checkpoint()
        content["optimizer"] = other.checkpoint()["optimizer"]
        content["_rlblocks"].pop("digest")
        torch.save(content, path)
    elif case == "malformed_rng_state":
        corrupt(
            path, lambda content: content["_rlblocks"]["rng_states"].update(numpy={"keys": torch.zeros(3)})
        )
    elif case == "bad_timestep":
        corrupt(path, lambda content: content["_rlblocks"].update(timestep=-3))
    else:
        corrupt(path, lambda content: content["_rlblocks"].update(recent_returns="abc"))
    target = make_agent(env, tmp_path)
    trainer(env, target, 8).train()  # a trained target: its optimizer and scalers hold state
    before, timestep, rng = snapshot(target), target.timestep, torch.get_rng_state()
    with pytest.raises(CheckpointError, match=message) as raised:
        target.load(path)
    assert path in str(raised.value)
    after = snapshot(target)
    assert after.keys() == before.keys()
    for name in before:
        assert_state_equal(before[name], after[name])
    assert target.timestep == timestep
    assert torch.equal(torch.get_rng_state(), rng)


def flip_a_tensor_byte(path):
    """Flip one byte inside the stored data of the largest tensor (torch's reader checks no CRC)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        member = max(
            (info for info in archive.infolist() if "/data/" in info.filename), key=lambda i: i.file_size
        )
        with open(path, "rb") as stream:
            stream.seek(member.header_offset + 26)
            name_length, extra_length = (int.from_bytes(stream.read(2), "little") for _ in range(2))
        data_start = member.header_offset + 30 + name_length + extra_length
    with open(path, "r+b") as stream:
        stream.seek(data_start + member.file_size // 2)
        byte = stream.read(1)
        stream.seek(-1, 1)
        stream.write(bytes([byte[0] ^ 0x10]))


def test_a_flipped_byte_in_tensor_data_is_detected_and_nothing_is_loaded(tmp_path):
    env = pendulum()
    agent = make_agent(env, tmp_path)
    trainer(env, agent, 8).train()
    path = str(tmp_path / "saved.pt")
    agent.save(path)
    make_agent(env, tmp_path).load(path)  # the intact file loads (its digest matches)
    flip_a_tensor_byte(path)
    target = make_agent(env, tmp_path)
    before = snapshot(target)
    with pytest.raises(CheckpointError, match="is damaged: its content does not match the digest"):
        target.load(path)
    for name, state in snapshot(target).items():
        assert_state_equal(before[name], state)
