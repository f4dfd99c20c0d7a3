"""Model instantiators: every factory acts, and skrl 0.10's bug #25 is fixed."""

import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.envs.torch import wrap_env
from rlblocks.utils.model_instantiators import (
    Shape,
    categorical_model,
    deterministic_model,
    gaussian_model,
    multivariate_gaussian_model,
    shared_model,
)

BOX_OBSERVATIONS = gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32)
BOX_ACTIONS = gymnasium.spaces.Box(-2.0, 2.0, (2,), np.float32)
DISCRETE_ACTIONS = gymnasium.spaces.Discrete(3)


def states(n=5):
    return torch.randn(n, 4)


def test_categorical_model_defaults_act_and_give_valid_log_probs():
    model = categorical_model(BOX_OBSERVATIONS, DISCRETE_ACTIONS, device="cpu")
    actions, log_prob, outputs = model.act({"states": states()}, role="policy")
    assert actions.shape == (5, 1) and actions.dtype == torch.int64
    assert log_prob.shape == (5, 1)
    expected = torch.log_softmax(outputs["net_output"], dim=-1).gather(-1, actions)
    torch.testing.assert_close(log_prob, expected)


def test_categorical_model_probabilities_need_a_softmax_output():
    with pytest.raises(ValueError, match='output_activation="softmax"'):
        categorical_model(BOX_OBSERVATIONS, DISCRETE_ACTIONS, device="cpu", unnormalized_log_prob=False)
    model = categorical_model(
        BOX_OBSERVATIONS,
        DISCRETE_ACTIONS,
        device="cpu",
        unnormalized_log_prob=False,
        output_activation="softmax",
    )
    _, log_prob, outputs = model.act({"states": states()})
    torch.testing.assert_close(outputs["net_output"].sum(-1), torch.ones(5))
    assert torch.isfinite(log_prob).all()


def test_output_scale_multiplies_the_output():
    model = deterministic_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", output_scale=2.0)
    inputs = {"states": states()}
    output, log_prob, _ = model.act(inputs)
    assert log_prob is None
    torch.testing.assert_close(output, 2.0 * model.net(inputs["states"]))
    assert output.abs().max() <= 2.0  # tanh output scaled to the action bound


def test_gaussian_model_mean_scale_log_prob_and_initial_log_std():
    model = gaussian_model(
        BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", output_scale=2.0, initial_log_std=-0.5, hiddens=[8]
    )
    inputs = {"states": states()}
    actions, log_prob, outputs = model.act(inputs)
    mean = 2.0 * model.net(inputs["states"])
    torch.testing.assert_close(outputs["mean_actions"], mean)
    torch.testing.assert_close(model.log_std_parameter, torch.full((2,), -0.5), check_dtype=False)
    normal = torch.distributions.Normal(mean, torch.exp(torch.tensor(-0.5)))
    torch.testing.assert_close(log_prob, normal.log_prob(actions).sum(-1, keepdim=True))


def test_gaussian_model_reduction_none_keeps_per_dimension_log_prob():
    model = gaussian_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", reduction="none")
    _, log_prob, _ = model.act({"states": states()})
    assert log_prob.shape == (5, 2)


def test_multivariate_gaussian_model_acts_with_joint_log_prob():
    model = multivariate_gaussian_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu")
    actions, log_prob, _ = model.act({"states": states()})
    assert actions.shape == (5, 2) and log_prob.shape == (5, 1)


def test_shape_one_input_gives_a_state_independent_output():
    model = deterministic_model(
        BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", input_shape=Shape.ONE, output_shape=Shape.ONE
    )
    assert model.net[0].in_features == 1
    output, _, _ = model.act({"states": states(3)})
    assert output.shape == (3, 1)
    assert torch.allclose(output, output[0].expand_as(output))


def test_critic_reads_states_and_actions_concatenated():
    critic = deterministic_model(
        BOX_OBSERVATIONS,
        BOX_ACTIONS,
        device="cpu",
        input_shape=Shape.STATES_ACTIONS,
        output_shape=Shape.ONE,
        output_activation=None,
        hiddens=[16, 16],
        hidden_activation="relu",
    )
    assert critic.net[0].in_features == 6
    inputs = {"states": states(), "taken_actions": torch.randn(5, 2)}
    q, _, _ = critic.act(inputs, role="critic_1")
    torch.testing.assert_close(q, critic.net(torch.cat([inputs["states"], inputs["taken_actions"]], -1)))


def test_shapes_may_be_given_by_name_and_linear_layers_sit_at_even_indices():
    model = deterministic_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", output_shape="one")
    assert [name for name, _ in model.net.named_children()] == ["0", "1", "2", "3", "4", "5"]
    assert all(isinstance(model.net[i], torch.nn.Linear) for i in (0, 2, 4))
    assert model.net[4].out_features == 1


def test_hidden_activation_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 entries for 3 hidden layers"):
        deterministic_model(
            BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", hiddens=[4, 4, 4], hidden_activation=["relu", "elu"]
        )
    with pytest.raises(ValueError, match='did you mean "tanh"'):
        deterministic_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", hidden_activation="tahn")
    with pytest.raises(ValueError, match="unknown shape"):
        deterministic_model(BOX_OBSERVATIONS, BOX_ACTIONS, device="cpu", output_shape="STATS")


def shared(hiddens):
    return shared_model(
        BOX_OBSERVATIONS,
        BOX_ACTIONS,
        device="cpu",
        roles=["policy", "value"],
        parameters=[
            {"hiddens": hiddens, "hidden_activation": "tanh", "output_scale": 2.0},
            {"hiddens": hiddens, "hidden_activation": "tanh"},
        ],
    )


def test_shared_model_with_one_hidden_layer_acts_for_both_roles():
    model = shared([32])
    inputs = {"states": states()}
    actions, log_prob, outputs = model.act(inputs, role="policy")
    values, none, _ = model.act(inputs, role="value")
    assert actions.shape == (5, 2) and log_prob.shape == (5, 1) and none is None
    assert values.shape == (5, 1)
    features = model.net(inputs["states"])
    torch.testing.assert_close(outputs["mean_actions"], 2.0 * model.mean_net(features))
    torch.testing.assert_close(values, model.value_net(features))


def test_shared_model_rejects_an_unknown_role():
    model = shared([16, 16])
    with pytest.raises(ValueError, match=r"roles \['policy', 'value'\].*role='critic'"):
        model.act({"states": states()}, role="critic")


def test_shared_model_rejects_different_trunks():
    with pytest.raises(ValueError, match="hiddens must be equal"):
        shared_model(
            BOX_OBSERVATIONS,
            BOX_ACTIONS,
            device="cpu",
            roles=["policy", "value"],
            parameters=[{"hiddens": [8]}, {"hiddens": [16]}],
        )


def test_discrete_observations_are_one_hot_encoded():
    model = categorical_model(gymnasium.spaces.Discrete(6), DISCRETE_ACTIONS, device="cpu", hiddens=[8])
    assert model.net[0].in_features == 6
    actions, _, _ = model.act({"states": torch.tensor([[0], [5]])})
    assert actions.shape == (2, 1)


class BoxAndDiscreteEnv(gymnasium.Env):
    """Dict observation {"a": Box (3,), "b": Discrete(4)}: a = [t, 2t, 3t], b = (t + 2) % 4."""

    observation_space = gymnasium.spaces.Dict(
        {"a": gymnasium.spaces.Box(-10.0, 10.0, (3,), np.float32), "b": gymnasium.spaces.Discrete(4)}
    )
    action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, t=0):
        self.t = t

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._observation(), {}

    def step(self, action):
        self.t += 1
        return self._observation(), 0.0, False, False, {}

    def _observation(self):
        return {"a": np.array([self.t, 2 * self.t, 3 * self.t], np.float32), "b": (self.t + 2) % 4}


def test_a_value_model_reads_the_wrappers_states_of_a_dict_observation_with_a_discrete_part():
    """The wrapper gives [a0, a1, a2, b] (b an index); the network reads [a0, a1, a2, one_hot(b)].

    Env 0 starts at t = 0: a = [0, 0, 0], b = 2; env 1 at t = 1: a = [1, 2, 3], b = 3.
    """
    env = wrap_env(
        gymnasium.vector.SyncVectorEnv([lambda: BoxAndDiscreteEnv(0), lambda: BoxAndDiscreteEnv(1)]),
        verbose=False,
    )
    states, _ = env.reset()
    assert states.tolist() == [[0.0, 0.0, 0.0, 2.0], [1.0, 2.0, 3.0, 3.0]]
    value = deterministic_model(
        env.observation_space,
        env.action_space,
        device="cpu",
        output_shape=Shape.ONE,
        output_activation=None,
        hiddens=[8],
    )
    assert value.net[0].in_features == 7

    values, _, _ = value.act({"states": states}, role="value")

    assert values.shape == (2, 1)
    one_hot = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(values, value.net(one_hot))
    torch.testing.assert_close(value.act({"states": one_hot}, role="value")[0], values)


def test_a_critic_one_hot_encodes_the_discrete_part_before_concatenating_the_actions():
    space = BoxAndDiscreteEnv.observation_space
    critic = deterministic_model(
        space, BOX_ACTIONS, device="cpu", input_shape=Shape.STATES_ACTIONS, output_shape=Shape.ONE
    )
    assert critic.net[0].in_features == 9
    states = torch.tensor([[0.5, 0.0, -0.5, 1.0]])
    actions = torch.tensor([[0.25, -0.25]])
    q, _, _ = critic.act({"states": states, "taken_actions": actions}, role="critic")
    network_input = torch.tensor([[0.5, 0.0, -0.5, 0.0, 1.0, 0.0, 0.0, 0.25, -0.25]])
    torch.testing.assert_close(q, critic.net(network_input))


def test_multi_discrete_observations_are_one_hot_encoded_per_component():
    space = gymnasium.spaces.MultiDiscrete([3, 2])
    policy = categorical_model(space, DISCRETE_ACTIONS, device="cpu", hiddens=[4])
    assert policy.net[0].in_features == 5
    _, _, outputs = policy.act({"states": torch.tensor([[2, 0]])})
    torch.testing.assert_close(outputs["net_output"], policy.net(torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0]])))


def test_discrete_observations_given_as_a_vector_of_indexes_are_one_hot_encoded():
    model = deterministic_model(gymnasium.spaces.Discrete(3), BOX_ACTIONS, device="cpu", hiddens=[4])
    output, _, _ = model.act({"states": torch.tensor([2, 0])})
    torch.testing.assert_close(output, model.net(torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])))
