"""Off-policy resume: the replay memory is saved beside each checkpoint and restored by `Agent.load`.

For SAC, TD3, DDPG, DQN and DDQN a resumed agent holds the same buffer (tensors, head, `filled`)
and, with the RNG states the checkpoint restores, draws the same first batch as the run that
went on uninterrupted. With ``experiment.checkpoint_memory: False`` the resume warns and waits
``learning_starts`` new steps. A damaged, foreign or oversized replay file is refused by name,
before anything is applied.
"""

import logging
import os

import pytest
import torch

from rlblocks.agents.torch.off_policy import replay_checkpoint
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from rlblocks.utils.checkpoint import CheckpointError, content_digest
from tests.helpers.off_policy import AGENT_NAMES, make_agent, models_for, train, vector_env

MEMORY_SIZE = 16
TIMESTEPS = 40  # the 16-step buffer has wrapped: filled, head at 40 % 16 = 8
LEARNING_STARTS = 10


def experiment(directory, **keys):
    return {"directory": str(directory), "experiment_name": "run", "checkpoint_interval": 20, **keys}


def build(name, directory, env=None, memory_size=MEMORY_SIZE, **experiment_keys):
    env = env or vector_env("CartPole-v1" if name in ("dqn", "ddqn") else "Pendulum-v1")
    cfg = {
        "learning_starts": LEARNING_STARTS,
        "state_preprocessor": RunningStandardScaler,
        "experiment": experiment(directory, **experiment_keys),
    }
    return make_agent(name, env=env, cfg=cfg, memory_size=memory_size, models=models_for(name, env))


def checkpoints(directory):
    return directory / "run" / "checkpoints"


def count_updates(agent):
    """Record the timestep of every `_update` call in the returned list."""
    timesteps = []
    update = agent._update

    def counted(timestep, total):
        timesteps.append(timestep)
        update(timestep, total)

    agent._update = counted
    return timesteps


def same(left, right):
    """Equal dtype, shape and values, NaN (an unwritten row) equal to NaN."""
    both_nan = torch.isnan(left) & torch.isnan(right) if left.is_floating_point() else False
    if left.dtype != right.dtype or left.shape != right.shape:
        return False
    return bool(((left == right) | both_nan).all())


def assert_same_memory(left, right):
    assert len(left) == len(right)
    heads = [(memory.memory_index, memory.env_index, memory.filled) for memory in (left, right)]
    assert heads[0] == heads[1]
    assert left.get_tensor_names() == right.get_tensor_names()
    for name in left.get_tensor_names():
        assert same(left.tensors[name], right.tensors[name]), name


@pytest.fixture(params=AGENT_NAMES)
def trained(request, tmp_path):
    """(name, agent trained for TIMESTEPS with checkpoints at 20 and 40, its env)."""
    torch.manual_seed(0)
    agent, env = build(request.param, tmp_path)
    train(agent, env, TIMESTEPS)
    return request.param, agent, env


def test_the_resumed_agent_holds_the_same_buffer_and_draws_the_same_first_batch(trained, tmp_path):
    name, agent, env = trained
    assert sorted(name for name in os.listdir(checkpoints(tmp_path)) if "replay" in name) == [
        "replay_memory_40.pt"  # the earlier checkpoint's replay file is removed
    ]
    assert agent.memory.filled and agent.memory.memory_index == TIMESTEPS % MEMORY_SIZE
    uninterrupted = agent.sample_batch()  # the RNG is where the checkpoint at 40 saved it

    resumed, _ = build(name, tmp_path, env=env)
    resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    assert_same_memory(resumed.memory, agent.memory)
    batch = resumed.sample_batch()
    for field in ("states", "actions", "rewards", "next_states", "terminated"):
        assert torch.equal(getattr(batch, field), getattr(uninterrupted, field)), field


def test_updates_go_on_at_the_first_step_after_a_resume_with_the_buffer(trained, tmp_path):
    name, _, env = trained
    resumed, _ = build(name, tmp_path, env=env)
    resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    updates = count_updates(resumed)
    train(resumed, env, TIMESTEPS + 4, resume=True)
    assert updates[0] == TIMESTEPS and len(resumed.memory) == MEMORY_SIZE * env.num_envs


def test_without_the_memory_the_resume_warns_and_waits_learning_starts_new_steps(tmp_path, caplog):
    torch.manual_seed(0)
    agent, env = build("sac", tmp_path, checkpoint_memory=False)
    train(agent, env, TIMESTEPS)
    assert not any("replay" in name for name in os.listdir(checkpoints(tmp_path)))

    resumed, _ = build("sac", tmp_path, env=env, checkpoint_memory=False)
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    (warning,) = [record.getMessage() for record in caplog.records if "replay memory" in record.getMessage()]
    assert "checkpoint_memory: False" in warning and f"learning_starts={LEARNING_STARTS} new steps" in warning
    assert len(resumed.memory) == 0
    updates = count_updates(resumed)
    train(resumed, env, TIMESTEPS + LEARNING_STARTS + 3, resume=True)
    assert updates == [TIMESTEPS + LEARNING_STARTS + step for step in range(3)]
    # the wait is kept by the next checkpoint: a second resume right away waits again from its own step


def test_a_removed_replay_file_warns_and_waits(trained, tmp_path, caplog):
    name, _, env = trained
    os.remove(checkpoints(tmp_path) / "replay_memory_40.pt")
    resumed, _ = build(name, tmp_path, env=env)
    with caplog.at_level(logging.WARNING, logger="rlblocks"):
        resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    assert any("replay_memory_40.pt' is gone" in record.getMessage() for record in caplog.records)
    updates = count_updates(resumed)
    train(resumed, env, TIMESTEPS + LEARNING_STARTS + 1, resume=True)
    assert updates == [TIMESTEPS + LEARNING_STARTS]


def test_save_and_load_carry_the_memory(tmp_path):
    torch.manual_seed(0)
    agent, env = build("sac", tmp_path, checkpoint_interval=0)
    train(agent, env, 12)
    agent.save(str(tmp_path / "sac.pt"))
    assert (tmp_path / "sac.replay_memory.pt").is_file()
    resumed, _ = build("sac", tmp_path, env=env, checkpoint_interval=0)
    resumed.load(str(tmp_path / "sac.pt"))
    assert_same_memory(resumed.memory, agent.memory)
    assert not resumed.memory.filled and len(resumed.memory) == 12 * env.num_envs


def test_an_acting_agent_does_not_read_the_memory(trained, tmp_path):
    name, _, env = trained
    (checkpoints(tmp_path) / "replay_memory_40.pt").write_bytes(b"damaged")
    acting, _ = build(name, tmp_path, env=env, memory_size=0)
    acting.load(str(checkpoints(tmp_path) / "agent_40.pt"), evaluation_only=True)
    assert acting.timestep == TIMESTEPS


# ------------------------------------------------------------------ refused replay files
def resign(agent_path, replay_path, change):
    """Apply ``change`` to the replay file's memory states and sign both files again (valid digests)."""
    content = torch.load(replay_path, weights_only=True)
    change(content["memories"])
    digest = replay_checkpoint._digest(content["memories"], content["_rlblocks"]["timestep"])
    content["_rlblocks"]["digest"] = digest
    torch.save(content, replay_path)
    checkpoint = torch.load(agent_path, weights_only=True)
    meta = checkpoint["_rlblocks"]
    meta.pop("digest")
    meta["memory"]["digest"] = digest
    meta["digest"] = content_digest(checkpoint)
    torch.save(checkpoint, agent_path)


def flip_a_tensor_byte(path):
    data = bytearray(path.read_bytes())
    start = data.index(b"data/0") + 100  # inside the first stored tensor
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))


def swap_in_a_memory_of_another_run(agent_path, replay_path, tmp_path):
    other, env = build("sac", tmp_path / "other")
    train(other, env, 4)
    other.write_checkpoint(4, 4)
    os.replace(checkpoints(tmp_path / "other") / "replay_memory_4.pt", replay_path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda agent, replay, tmp: flip_a_tensor_byte(replay), "is damaged"),
        (swap_in_a_memory_of_another_run, "is not the replay memory its agent checkpoint was written with"),
        (
            lambda agent, replay, tmp: resign(
                agent, replay, lambda states: states[0]["tensors"].update(rewards=torch.zeros(16, 2, 2))
            ),
            'tensor "rewards" is (16, 2, 2) torch.float32, but the live memory\'s is (16, 2, 1)',
        ),
        (
            lambda agent, replay, tmp: resign(agent, replay, lambda states: states[0].update(env_index=9)),
            "outside the buffer",
        ),
        (
            lambda agent, replay, tmp: resign(agent, replay, lambda states: states[0].update(filled=1)),
            "malformed 'filled'",
        ),
    ],
    ids=["flipped byte", "another run's", "tensor shape", "head", "filled flag"],
)
def test_a_bad_replay_file_is_refused_by_name_and_nothing_is_loaded(tmp_path, damage, message):
    torch.manual_seed(0)
    agent, env = build("sac", tmp_path)
    train(agent, env, TIMESTEPS)
    agent_path = checkpoints(tmp_path) / "agent_40.pt"
    replay_path = checkpoints(tmp_path) / "replay_memory_40.pt"
    damage(agent_path, replay_path, tmp_path)
    resumed, _ = build("sac", tmp_path, env=env)
    resumed.init()
    before = {name: tensor.clone() for name, tensor in resumed.memory.tensors.items()}
    policy = [parameter.clone() for parameter in resumed.policy.parameters()]
    with pytest.raises(CheckpointError, match="replay_memory_40.pt") as error:
        resumed.load(str(agent_path))
    assert message in str(error.value)
    assert resumed.timestep == 0 and len(resumed.memory) == 0
    assert all(same(before[name], tensor) for name, tensor in resumed.memory.tensors.items())
    assert all(torch.equal(a, b) for a, b in zip(policy, resumed.policy.parameters()))


def test_a_replay_file_larger_than_the_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    torch.manual_seed(0)
    agent, env = build("sac", tmp_path)
    train(agent, env, TIMESTEPS)
    big, _ = build("sac", tmp_path / "big", env=env, memory_size=4096)
    big.init()
    replay_checkpoint.save_replay([big.memory], str(checkpoints(tmp_path) / "replay_memory_40.pt"), 40)
    resumed, _ = build("sac", tmp_path, env=env)
    monkeypatch.setattr(replay_checkpoint, "safe_load", lambda *args, **kwargs: pytest.fail("read"))
    with pytest.raises(CheckpointError, match=r"replay_memory_40.pt' declares [\d,]+ bytes of data, more"):
        resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    assert len(resumed.memory) == 0


def test_another_memory_size_is_refused_naming_the_sizes(trained, tmp_path):
    name, _, env = trained
    resumed, _ = build(name, tmp_path, env=env, memory_size=2 * MEMORY_SIZE)
    with pytest.raises(CheckpointError, match=r"\(memory_size, num_envs\) = \(16, 2\), but the live memory"):
        resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))


def test_a_recurrent_agent_gets_its_stored_states_back(tmp_path):
    """With an LSTM policy and critics the buffer also holds truncated and the input states."""
    from tests.helpers.recurrent_off_policy_models import recurrent_models

    env = vector_env("Pendulum-v1")

    def recurrent_sac():
        torch.manual_seed(0)
        models = recurrent_models(
            "sac",
            env.observation_space,
            env.action_space,
            "lstm",
            env.num_envs,
            hidden_size=8,
            sequence_length=4,
        )
        cfg = {"learning_starts": LEARNING_STARTS, "experiment": experiment(tmp_path)}
        return make_agent("sac", env=env, cfg=cfg, memory_size=MEMORY_SIZE, models=models)[0]

    agent = recurrent_sac()
    train(agent, env, TIMESTEPS)
    assert any(name.startswith("rnn_") for name in agent.memory.get_tensor_names())
    assert "truncated" in agent.memory.get_tensor_names()
    resumed = recurrent_sac()
    resumed.load(str(checkpoints(tmp_path) / "agent_40.pt"))
    assert_same_memory(resumed.memory, agent.memory)
