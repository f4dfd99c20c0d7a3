"""SequentialTrainer: hook order, timesteps, scopes, resume, eval, rendering, env closing."""

import pytest
import torch
from gymnasium.vector import SyncVectorEnv

from rlblocks.envs.torch import wrap_env
from rlblocks.trainers.torch import SequentialTrainer
from tests.helpers.envs import CounterEnv, make_counter_env
from tests.trainers.torch.fake_agent import FakeAgent

QUIET = {"disable_progressbar": True, "headless": True}


def counter_envs(*lengths):
    """A wrapped SyncVectorEnv of counter envs truncating after the given lengths."""
    return wrap_env(SyncVectorEnv([make_counter_env(length) for length in lengths]), verbose=False)


def test_single_agent_hooks_run_in_order_with_timesteps_0_to_T_minus_1():
    agent = FakeAgent()
    trainer = SequentialTrainer(counter_envs(2, 3), agent, cfg={"timesteps": 4, **QUIET})
    trainer.train()
    per_step = ["pre_interaction", "act", "record_transition", "post_interaction"]
    expected = [("init",), ("set_running_mode", "train")]
    expected += [(hook, timestep, 4) for timestep in range(4) for hook in per_step]
    assert agent.calls == expected
    assert agent.trainer_cfg == trainer.cfg.to_dict() and agent.timestep == 4


def test_act_and_record_transition_run_without_grad():
    agent = FakeAgent()
    SequentialTrainer(counter_envs(2), agent, cfg={"timesteps": 3, **QUIET}).train()
    assert agent.grad_enabled == [False] * 6


def test_transitions_are_real_and_states_follow_the_autoreset_contract():
    """next_state = state + 1 in every transition; after an episode ends the agent acts on the
    reset observation (0) of that env and on next_states elsewhere; no tensor it got is modified."""
    agent = FakeAgent()
    SequentialTrainer(counter_envs(2, 3), agent, cfg={"timesteps": 7, **QUIET}).train()
    for step, transition in enumerate(agent.transitions):
        assert torch.equal(transition["next_states"], transition["states"] + 1)
        assert torch.equal(transition["states"], agent.acted_on[step][1])
        done = transition["terminated"] | transition["truncated"]
        if step + 1 < len(agent.acted_on):
            expected = torch.where(
                done, torch.zeros_like(transition["next_states"]), transition["next_states"]
            )
            assert torch.equal(agent.acted_on[step + 1][1], expected)
    assert [t["truncated"].reshape(-1).tolist() for t in agent.transitions][:3] == [
        [False, False],
        [True, False],
        [False, True],
    ]
    for given, clone in agent.acted_on:
        assert torch.equal(given, clone)  # nothing copied into a tensor the agent was given


def test_two_agents_get_their_scope_of_the_states():
    first, second = FakeAgent(action_value=0), FakeAgent(action_value=1)
    env = counter_envs(9, 9, 9, 9)
    SequentialTrainer(env, [first, second], agents_scope=[1, 3], cfg={"timesteps": 2, **QUIET}).train()
    assert [clone.shape for _, clone in first.acted_on] == [(1, 1), (1, 1)]
    assert [clone.shape for _, clone in second.acted_on] == [(3, 1), (3, 1)]
    assert first.transitions[1]["states"].tolist() == [[1.0]]
    assert second.transitions[1]["next_states"].tolist() == [[2.0]] * 3
    # each agent's actions reached its own envs: reward = action
    assert first.transitions[0]["rewards"].tolist() == [[0.0]]
    assert second.transitions[0]["rewards"].tolist() == [[1.0]] * 3
    assert first.transitions[0]["infos"]["count"].tolist() == [1, 1, 1, 1]  # the full infos
    for agent in (first, second):
        assert [call[0] for call in agent.calls[:2]] == ["init", "set_running_mode"]
        assert agent.hooks("post_interaction") == [(0, 2), (1, 2)]


def test_default_scopes_are_equal_shares_with_the_remainder_last(caplog):
    agents = [FakeAgent(), FakeAgent()]
    trainer = SequentialTrainer(counter_envs(9, 9, 9), agents, cfg={"timesteps": 1, **QUIET})
    assert trainer.agents_scope == [(0, 1), (1, 3)] and trainer.num_agents == 2
    assert "scopes are empty" in caplog.text


def test_a_one_agent_list_is_a_single_agent():
    agent = FakeAgent()
    trainer = SequentialTrainer(counter_envs(9, 9), [agent], cfg={"timesteps": 1, **QUIET})
    assert trainer.agents is agent and trainer.num_agents == 1 and trainer.agents_scope == [(0, 2)]


def test_resume_starts_at_the_agents_timestep():
    agent = FakeAgent()
    agent.timestep = 3
    SequentialTrainer(counter_envs(2), agent, cfg={"timesteps": 6, "resume": True, **QUIET}).train()
    assert agent.hooks("pre_interaction") == [(3, 6), (4, 6), (5, 6)]
    assert agent.timestep == 6


def test_without_resume_training_starts_at_0_whatever_the_agent_timestep():
    agent = FakeAgent()
    agent.timestep = 3
    SequentialTrainer(counter_envs(2), agent, cfg={"timesteps": 2, **QUIET}).train()
    assert agent.hooks("act") == [(0, 2), (1, 2)]


def test_resume_with_agents_at_different_timesteps_is_an_error():
    first, second = FakeAgent(), FakeAgent()
    second.timestep = 5
    trainer = SequentialTrainer(counter_envs(9, 9), [first, second], cfg={"resume": True, **QUIET})
    with pytest.raises(ValueError, match=r"same timestep, got \[0, 5\]"):
        trainer.train()


def test_eval_calls_no_pre_interaction_and_runs_the_agent_in_eval_mode():
    agent = FakeAgent()
    trainer = SequentialTrainer(counter_envs(2), agent, cfg={"timesteps": 3, **QUIET})
    trainer.eval()
    assert ("set_running_mode", "eval") in agent.calls and not agent.hooks("pre_interaction")
    assert agent.hooks("act") == agent.hooks("record_transition") == agent.hooks("post_interaction")
    assert agent.hooks("post_interaction") == [(0, 3), (1, 3), (2, 3)]


def test_stochastic_evaluation_reaches_the_agent_through_init():
    agent = FakeAgent()
    SequentialTrainer(counter_envs(2), agent, cfg={"stochastic_evaluation": True, **QUIET})
    assert agent.trainer_cfg["stochastic_evaluation"] is True


def test_the_env_is_closed_at_exit_unless_configured_otherwise():
    env = counter_envs(2)
    SequentialTrainer(env, FakeAgent(), cfg={"timesteps": 1, **QUIET}).train()
    assert env.env.closed
    env = counter_envs(2)
    trainer = SequentialTrainer(
        env, FakeAgent(), cfg={"timesteps": 2, "close_environment_at_exit": False, **QUIET}
    )
    trainer.train()
    assert not env.env.closed
    trainer.eval()  # evaluation after training works on the still-open env
    assert not env.env.closed and len(trainer.agents.hooks("post_interaction")) == 4


class RenderCounter(CounterEnv):
    def __init__(self, render_mode):
        super().__init__(max_steps=2)
        self.render_mode = render_mode
        self.renders = 0

    def render(self):
        self.renders += 1


@pytest.mark.parametrize(
    ("render_mode", "headless", "renders"),
    [("rgb_array", False, 3), ("rgb_array", True, 0), (None, False, 0)],
)
def test_render_each_step_only_if_not_headless_and_the_env_has_a_render_mode(render_mode, headless, renders):
    inner = RenderCounter(render_mode)
    cfg = {"timesteps": 3, "headless": headless, "disable_progressbar": True}
    SequentialTrainer(wrap_env(inner, verbose=False), FakeAgent(), cfg=cfg).train()
    assert inner.renders == renders


def test_single_env_is_reset_after_each_episode():
    inner = CounterEnv(max_steps=2)
    agent = FakeAgent()
    SequentialTrainer(wrap_env(inner, verbose=False), agent, cfg={"timesteps": 5, **QUIET}).train()
    assert [clone.item() for _, clone in agent.acted_on] == [0, 1, 0, 1, 0]
    assert inner.num_resets == 3


def test_progress_bar_shows_the_rate_and_the_mean_return(capsys):
    agent = FakeAgent()
    agent.recent_mean_return = 1.5
    cfg = {"timesteps": 3, "headless": True, "progress": "bar"}
    SequentialTrainer(counter_envs(2), agent, cfg=cfg).train()
    output = capsys.readouterr().err
    assert "3/3" in output and "env steps/s" in output and "mean_return=1.5" in output


def test_disabled_progress_bar_prints_nothing(capsys):
    SequentialTrainer(counter_envs(2), FakeAgent(), cfg={"timesteps": 3, **QUIET}).train()
    assert capsys.readouterr().err == ""
