"""Evaluation during training, early stopping and callbacks (`rlblocks.trainers.torch.monitor`)."""

import gymnasium
import pytest
import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.ppo import PPO
from rlblocks.envs.torch import wrap_env
from rlblocks.memories.torch import RandomMemory
from rlblocks.trainers.torch import Callback, SequentialTrainer, StopTraining, evaluate_episodes
from rlblocks.utils.checkpoint import safe_load
from tests.helpers.envs import make_counter_env
from tests.helpers.models import CategoricalPolicy, Value

CFG = {"timesteps": 40, "headless": True, "disable_progressbar": True}


def counter_env(num_envs=2, max_steps=5):
    """CounterEnv: reward = the action (0 or 1), episodes of ``max_steps`` steps."""
    vector = gymnasium.vector.SyncVectorEnv([make_counter_env(max_steps) for _ in range(num_envs)])
    return wrap_env(vector, verbose=False)


def ppo_agent(env, directory, action=1, **experiment):
    """PPO whose deterministic action is always ``action`` (a bias of 100: a few updates cannot flip it)."""
    policy = CategoricalPolicy(env.observation_space, env.action_space, hidden=(8,))
    with torch.no_grad():
        policy.net[-1].weight.zero_()
        policy.net[-1].bias.copy_(torch.tensor([100.0, 0.0] if action == 0 else [0.0, 100.0]))
    models = {"policy": policy, "value": Value(env.observation_space, env.action_space, hidden=(8,))}
    cfg = {
        "rollouts": 4,
        "learning_epochs": 1,
        "mini_batches": 1,
        "experiment": {"directory": str(directory), "experiment_name": "run", **experiment},
    }
    return PPO(models, RandomMemory(4, env.num_envs), env.observation_space, env.action_space, "cpu", cfg)


def test_evaluate_episodes_gives_exact_deterministic_returns_and_leaves_training_statistics(tmp_path):
    env, eval_env = counter_env(), counter_env(num_envs=2, max_steps=5)
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=0)
    agent.init(trainer_cfg={})
    agent.set_running_mode("train")
    statistics = agent.episode_statistics
    result = evaluate_episodes(agent, eval_env, episodes=3, timestep=7)
    assert result.returns == [5.0, 5.0, 5.0]  # action 1 at each of the 5 steps
    assert result.lengths == [5, 5, 5]
    assert (result.mean, result.std, result.timestep) == (5.0, 0.0, 7)
    assert agent.training is True  # back in train running mode
    assert agent.episode_statistics is statistics and agent.recent_mean_return is None
    zero = evaluate_episodes(ppo_agent(env, tmp_path, action=0), counter_env(1), episodes=2)
    assert zero.returns == [0.0, 0.0]
    with pytest.raises(ValueError, match="episodes must be an int >= 1, got 0"):
        evaluate_episodes(agent, eval_env, episodes=0)


def test_evaluations_are_logged_and_best_agent_is_chosen_by_evaluation_return(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    env, eval_env = counter_env(), counter_env(num_envs=1)
    agent = ppo_agent(env, tmp_path, write_interval=10, checkpoint_interval=20)
    trainer = SequentialTrainer(
        env, agent, cfg={**CFG, "eval_interval": 10, "eval_episodes": 2}, eval_env=eval_env
    )
    trainer.train()
    evaluations = trainer.monitor.evaluations
    assert [result.timestep for result in evaluations] == [10, 20, 30, 40]
    assert [result.env_steps for result in evaluations] == [20, 40, 60, 80]  # 2 training envs
    assert [result.returns for result in evaluations] == [[5.0, 5.0]] * 4
    best = safe_load(str(tmp_path / "run" / "checkpoints" / "best_agent.pt"))
    assert best["_rlblocks"]["timestep"] == 10  # the first evaluation; later ones only tie it
    assert best["_rlblocks"]["best_return"] == 5.0
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    points = events.Scalars(tags.EVAL_MEAN_RETURN)
    assert [(point.step, point.value) for point in points] == [(20, 5.0), (40, 5.0), (60, 5.0), (80, 5.0)]
    assert [point.value for point in events.Scalars(tags.EVAL_MEAN_LENGTH)] == [5.0] * 4
    assert trainer.stop_reason is None


def test_stop_at_return_stops_at_the_first_evaluation_reaching_it(tmp_path):
    env, eval_env = counter_env(), counter_env(num_envs=1)
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=0)
    cfg = {**CFG, "eval_interval": 10, "eval_episodes": 1, "stop_at_return": 5}
    trainer = SequentialTrainer(env, agent, cfg=cfg, eval_env=eval_env)
    trainer.train()
    assert agent.timestep == 10
    assert trainer.stop_reason == "evaluation mean return 5.00 >= stop_at_return 5.0"


def test_patience_stops_after_that_many_evaluations_without_improvement(tmp_path):
    env, eval_env = counter_env(), counter_env(num_envs=1)
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=0)
    cfg = {**CFG, "timesteps": 100, "eval_interval": 10, "eval_episodes": 1, "patience": 2}
    trainer = SequentialTrainer(env, agent, cfg=cfg, eval_env=eval_env)
    trainer.train()
    # 10: best (5.0); 20 and 30: no better return -> the second one stops
    assert agent.timestep == 30
    assert trainer.monitor.stale_evaluations == 2
    assert "in 2 evaluations (patience)" in trainer.stop_reason


class Recorder(Callback):
    def __init__(self, stop_on=None):
        self.calls = []
        self.stop_on = stop_on

    def on_train_start(self, trainer):
        self.calls.append(("start",))

    def on_step(self, trainer, timestep):
        self.calls.append(("step", timestep))
        return self.stop_on == ("step", timestep)

    def on_update(self, trainer, agent, timestep):
        self.calls.append(("update", timestep))
        if self.stop_on == ("update", timestep):
            raise StopTraining("enough updates")

    def on_checkpoint(self, trainer, agent, timestep):
        self.calls.append(("checkpoint", timestep))

    def on_evaluation(self, trainer, result):
        self.calls.append(("evaluation", result.timestep, result.mean))

    def on_train_end(self, trainer):
        self.calls.append(("end",))


def test_callbacks_are_called_in_order_within_each_step(tmp_path):
    env, eval_env = counter_env(), counter_env(num_envs=1)
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=8)
    first, second = Recorder(), Recorder()
    cfg = {**CFG, "timesteps": 16, "eval_interval": 8, "eval_episodes": 1}
    SequentialTrainer(env, agent, cfg=cfg, eval_env=eval_env, callbacks=[first, second]).train()
    expected = [("start",)]
    for timestep in range(1, 17):
        if timestep % 4 == 0:  # rollouts: 4
            expected.append(("update", timestep))
        if timestep % 8 == 0:
            expected.append(("checkpoint", timestep))
        expected.append(("step", timestep))
        if timestep % 8 == 0:
            expected.append(("evaluation", timestep, 5.0))
    expected.append(("end",))
    assert first.calls == expected
    assert second.calls == expected
    assert "_update" not in vars(agent) and "write_checkpoint" not in vars(agent)  # observing ended


@pytest.mark.parametrize(
    ("stop_on", "timestep", "reason"),
    [
        (("step", 7), 7, "Recorder.on_step returned True"),
        (("update", 8), 8, "Recorder.on_update: enough updates"),
    ],
)
def test_a_callback_stops_training_after_the_step(tmp_path, stop_on, timestep, reason):
    env = counter_env()
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=0)
    recorder = Recorder(stop_on)
    trainer = SequentialTrainer(env, agent, cfg=CFG, callbacks=[recorder])
    trainer.train()
    assert agent.timestep == timestep
    assert trainer.stop_reason == reason
    assert recorder.calls[-2:] == [("step", timestep), ("end",)]


def test_only_overridden_hooks_are_called_and_no_monitor_without_them(tmp_path):
    class StepsOnly(Callback):
        steps = 0

        def on_step(self, trainer, timestep):
            StepsOnly.steps += 1

    env = counter_env()
    agent = ppo_agent(env, tmp_path, write_interval=0, checkpoint_interval=0)
    trainer = SequentialTrainer(env, agent, cfg={**CFG, "timesteps": 12}, callbacks=[StepsOnly()])
    trainer.train()
    assert StepsOnly.steps == 12 and "_update" not in vars(agent)
    plain = SequentialTrainer(counter_env(), ppo_agent(env, tmp_path / "b"), cfg={**CFG, "timesteps": 4})
    plain.train()
    assert plain.monitor is None and plain.stop_reason is None


@pytest.mark.parametrize(
    ("cfg", "kwargs", "error", "match"),
    [
        ({"eval_interval": 10}, {}, ValueError, "eval_interval=10 needs an evaluation env"),
        ({"patience": 3}, {"eval_env": True}, ValueError, "patience stop on evaluation returns"),
        ({"stop_at_return": 1.0}, {}, ValueError, "stop_at_return stop on evaluation returns"),
        ({"eval_interval": -1}, {}, ValueError, 'key "eval_interval" must be an int >= 0, got -1'),
        ({"eval_episodes": 0}, {}, ValueError, 'key "eval_episodes" must be an int >= 1, got 0'),
        ({"stop_at_return": "high"}, {}, ValueError, 'config key "stop_at_return" must be a number'),
        ({}, {"callbacks": [Recorder]}, TypeError, r"got <class .*Recorder'>; pass Recorder\(\)"),
    ],
)
def test_bad_evaluation_settings_are_refused(tmp_path, cfg, kwargs, error, match):
    env = counter_env()
    if kwargs.get("eval_env") is True:
        kwargs = {"eval_env": counter_env(1)}
    with pytest.raises(error, match=match):
        SequentialTrainer(env, ppo_agent(env, tmp_path), cfg={**CFG, **cfg}, **kwargs)


def test_eval_env_must_not_be_the_training_env(tmp_path):
    env = counter_env()
    with pytest.raises(ValueError, match="separate env"):
        SequentialTrainer(env, ppo_agent(env, tmp_path), cfg={**CFG, "eval_interval": 5}, eval_env=env)


def test_an_evaluation_mid_rollout_leaves_a_recurrent_agents_states_unchanged(tmp_path):
    from rlblocks.utils.model_instantiators import Shape, categorical_model, deterministic_model

    env = counter_env()
    rnn = {"type": "lstm", "hidden_size": 4, "sequence_length": 2}
    spaces = (env.observation_space, env.action_space, "cpu")
    policy = categorical_model(*spaces, hiddens=[4], rnn=rnn)
    value = deterministic_model(*spaces, hiddens=[4], output_shape=Shape.ONE, output_activation=None, rnn=rnn)
    cfg = {"rollouts": 8, "experiment": {"write_interval": 0, "checkpoint_interval": 0}}
    agent = PPO({"policy": policy, "value": value}, RandomMemory(8, 2), *spaces, cfg)
    trainer = SequentialTrainer(env, agent, cfg={**CFG, "timesteps": 3, "close_environment_at_exit": False})
    trainer.train()  # 3 steps into a rollout: the states are no longer zeros
    before = {role: [state.clone() for state in states] for role, states in agent.recurrent.states.items()}
    assert any(bool(state.abs().sum() > 0) for states in before.values() for state in states)
    result = evaluate_episodes(agent, counter_env(1), episodes=2)
    assert result.lengths == [5, 5]
    after = agent.recurrent.states
    assert all(torch.equal(old, new) for role in before for old, new in zip(before[role], after[role]))
