"""`Model`: the examples of the model API text with their exact values, and the base-class behaviour."""

import copy
import inspect
import logging

import gymnasium
import numpy as np
import pytest
import torch
from torch import nn

from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model, TabularMixin
from rlblocks.utils.checkpoint import CheckpointError
from tests.models.torch.models import MLPGaussian, box

BOX_2x3 = gymnasium.spaces.Box(low=-1, high=1, shape=(2, 3))
DICT_SPACE = gymnasium.spaces.Dict({"a": BOX_2x3, "b": gymnasium.spaces.Discrete(4)})


@pytest.fixture
def model():
    return Model(observation_space=4, action_space=2, device="cpu")


# ------------------------------------------------------------ construction


def test_constructor_stores_spaces_device_and_sizes():
    model = Model(BOX_2x3, gymnasium.spaces.Discrete(5), device="cpu")
    assert model.observation_space is BOX_2x3
    assert model.device == torch.device("cpu")
    assert (model.num_observations, model.num_actions) == (6, 5)
    assert type(model.num_observations) is int


def test_default_device_is_cuda0_if_available_else_cpu():
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert Model(1, 1).device == torch.device(expected)


def test_none_spaces_give_none_sizes():
    model = Model(None, None, "cpu")
    assert model.num_observations is None and model.num_actions is None


def test_unsupported_space_raises_value_error_naming_the_type_and_the_supported_ones():
    with pytest.raises(
        ValueError, match=r"Space type <class 'str'> not supported .* supported: int, sequence"
    ):
        Model("box", 2, "cpu")


# ------------------------------------------------------ the spec's examples


def test_get_space_size_examples_of_the_api_text(model):
    assert model._get_space_size(2) == 2
    assert model._get_space_size([2, 3]) == 6
    assert model._get_space_size(BOX_2x3) == 6
    assert model._get_space_size(gymnasium.spaces.Discrete(4)) == 4
    assert model._get_space_size(gymnasium.spaces.Discrete(4), number_of_elements=False) == 1
    assert model._get_space_size(DICT_SPACE) == 10
    assert model._get_space_size(DICT_SPACE, number_of_elements=False) == 7


def test_get_space_size_float_truncates_and_empty_shape_is_one(model):
    assert model._get_space_size(2.7) == 2
    assert model._get_space_size(()) == 1


def test_tensor_to_space_example_of_the_api_text(model):
    tensor = torch.tensor([[-0.3, -0.2, -0.1, 0.1, 0.2, 0.3, 2]])
    mapped = model.tensor_to_space(tensor, DICT_SPACE)
    assert set(mapped) == {"a", "b"}
    torch.testing.assert_close(mapped["a"], torch.tensor([[[-0.3, -0.2, -0.1], [0.1, 0.2, 0.3]]]))
    torch.testing.assert_close(mapped["b"], torch.tensor([[2.0]]))


def test_get_specification_is_empty(model):
    assert model.get_specification() == {}


def test_get_specification_example_of_an_lstm_model():
    class Recurrent(Model):
        def __init__(self, num_envs=4, hidden_size=64, num_layers=1):
            Model.__init__(self, 3, 1, "cpu")
            self.num_envs, self.hidden_size, self.num_layers = num_envs, hidden_size, num_layers
            self.lstm = nn.LSTM(3, hidden_size, num_layers, batch_first=True)

        def get_specification(self):
            size = (self.num_layers, self.num_envs, self.hidden_size)
            return {"rnn": {"sizes": [size, size]}}

    assert Recurrent().get_specification() == {"rnn": {"sizes": [(1, 4, 64), (1, 4, 64)]}}


def test_custom_model_example_overriding_act():
    """Weights 0.1, biases 0, states of ones: layer 1 gives 3 * 0.1 = 0.3 (x64), layer 2 64 * 0.3 * 0.1."""

    class CustomModel(Model):
        def __init__(self, observation_space, action_space, device="cpu"):
            Model.__init__(self, observation_space, action_space, device)
            self.layer_1 = nn.Linear(self.num_observations, 64)
            self.layer_2 = nn.Linear(64, self.num_actions)

        def act(self, inputs, role=""):
            x = torch.relu(self.layer_1(inputs["states"]))
            x = torch.relu(self.layer_2(x))
            return x, None, {}

    model = CustomModel(3, 2)
    model.init_weights("constant_", val=0.1)
    model.init_biases("constant_", val=0)
    output, log_prob, outputs = model({"states": torch.ones(5, 3)})
    torch.testing.assert_close(output, torch.full((5, 2), 1.92))
    assert log_prob is None and outputs == {}


# ---------------------------------------------------------------- act/compute


def test_act_without_a_mixin_warns_and_raises_not_implemented(caplog):
    class WrongOrder(Model, GaussianMixin):
        pass

    wrong = WrongOrder(2, 2, "cpu")
    with caplog.at_level(logging.WARNING), pytest.raises(NotImplementedError, match=r"GaussianMixin, Model"):
        wrong.act({"states": torch.zeros(1, 2)})
    assert "Make sure to place Mixins before Model" in caplog.text


def test_compute_of_the_base_class_raises_not_implemented(model):
    with pytest.raises(NotImplementedError, match=r"Model.compute is not implemented"):
        model.compute({"states": torch.zeros(1, 4)})


def test_calling_the_module_is_act():
    policy = MLPGaussian()
    states = torch.randn(3, 4)
    torch.manual_seed(1)
    called = policy({"states": states}, role="policy")
    torch.manual_seed(1)
    acted = policy.act({"states": states}, role="policy")
    for a, b in zip(called[:2], acted[:2]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_states_of_the_wrong_width_raise_a_value_error_naming_the_expected_shape():
    policy = MLPGaussian(num_observations=4)
    with pytest.raises(ValueError, match=r'"states" should be \(N, 4\) .* got \(3, 5\)'):
        policy.act({"states": torch.zeros(3, 5)}, role="policy")


def test_missing_states_key_raises_a_value_error_saying_how_to_call_act():
    policy = MLPGaussian()

    class NoStates(GaussianMixin, Model):
        def __init__(self):
            Model.__init__(self, 4, 2, "cpu")
            GaussianMixin.__init__(self)

        def compute(self, inputs, role=""):
            return policy.net(inputs["observations"]), policy.log_std_parameter, {}

    with pytest.raises(ValueError, match=r'must be a dict with a "states" tensor, got a dict with keys'):
        NoStates().act({"observations": torch.zeros(1, 3)})


def test_other_compute_errors_propagate_unchanged():
    class Broken(DeterministicMixin, Model):
        def __init__(self):
            Model.__init__(self, 2, 1, "cpu")
            DeterministicMixin.__init__(self)

        def compute(self, inputs, role=""):
            raise RuntimeError("inside compute")

    with pytest.raises(RuntimeError, match="^inside compute$"):
        Broken().act({"states": torch.zeros(1, 2)})


# ----------------------------------------------------------------- random_act


def test_random_act_box_samples_each_dimension_within_its_own_bounds():
    model = Model(
        3, gymnasium.spaces.Box(low=np.array([-1, 0], np.float32), high=np.array([1, 10], np.float32)), "cpu"
    )
    actions, log_prob, outputs = model.random_act({"states": torch.zeros(5000, 3)})
    assert actions.shape == (5000, 2) and actions.dtype == torch.float32
    assert log_prob is None and outputs == {}
    assert actions[:, 0].min() >= -1 and actions[:, 0].max() <= 1
    assert actions[:, 1].min() >= 0 and actions[:, 1].max() <= 10
    assert actions[:, 1].max() > 9 and actions[:, 1].mean() == pytest.approx(5.0, abs=0.3)


def test_random_act_discrete_is_n_by_1_int64_within_range():
    model = Model(3, gymnasium.spaces.Discrete(4), "cpu")
    actions, _, _ = model.random_act({"states": torch.zeros(1000, 3)})
    assert actions.shape == (1000, 1) and actions.dtype == torch.int64
    assert set(actions.flatten().tolist()) == {0, 1, 2, 3}


def test_random_act_multidiscrete_is_one_int64_column_per_component():
    model = Model(3, gymnasium.spaces.MultiDiscrete([2, 5]), "cpu")
    actions, _, _ = model.random_act({"states": torch.zeros(1000, 3)})
    assert actions.shape == (1000, 2) and actions.dtype == torch.int64
    assert set(actions[:, 0].tolist()) == {0, 1} and set(actions[:, 1].tolist()) == {0, 1, 2, 3, 4}


def test_random_act_with_an_int_action_space_raises_an_error_that_is_also_not_implemented():
    model = Model(3, 2, "cpu")
    with pytest.raises(NotImplementedError, match="has no bounds"):
        model.random_act({"states": torch.zeros(4, 3)})
    with pytest.raises(ValueError):
        model.random_act({"states": torch.zeros(4, 3)})


# ------------------------------------------------------------- initialisers


class Nested(Model):
    """Linear layers directly, in a Sequential, in a ModuleList, in a custom sub-module, without bias."""

    def __init__(self):
        Model.__init__(self, 4, 2, "cpu")
        self.direct = nn.Linear(4, 8)
        self.sequential = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
        self.module_list = nn.ModuleList([nn.Linear(8, 3)])
        self.custom = nn.Module()
        self.custom.inner = nn.Sequential(nn.Module())
        self.custom.inner[0].layer = nn.Linear(3, 2)
        self.no_bias = nn.Linear(2, 2, bias=False)
        self.log_std_parameter = nn.Parameter(torch.zeros(2))

    def linear_layers(self):
        return [
            self.direct,
            self.sequential[0],
            self.module_list[0],
            self.custom.inner[0].layer,
            self.no_bias,
        ]


def _is_orthogonal(weight, gain):
    rows, cols = weight.shape
    gram = weight.T @ weight if rows >= cols else weight @ weight.T
    return torch.allclose(gram, gain**2 * torch.eye(min(rows, cols)), atol=1e-5)


def test_init_parameters_orthogonal_with_gain_initialises_matrices_and_leaves_vectors():
    model = Nested()
    nn.init.constant_(model.direct.bias, 0.7)
    model.init_parameters("orthogonal_", gain=0.5)
    assert all(_is_orthogonal(layer.weight, 0.5) for layer in model.linear_layers())
    assert torch.equal(model.direct.bias, torch.full((8,), 0.7))
    assert torch.equal(model.log_std_parameter, torch.zeros(2))


def test_init_parameters_sparse_example_zeroes_a_fraction_of_each_column():
    model = Nested()
    model.init_parameters("sparse_", sparsity=0.1)
    weight = model.direct.weight  # (8, 4): ceil(0.1 * 8) = 1 zero per column
    assert ((weight == 0).sum(dim=0) >= 1).all()
    assert torch.equal(model.log_std_parameter, torch.zeros(2))


def test_init_parameters_default_normal_touches_every_parameter_biases_included():
    model = Nested()
    for parameter in model.parameters():
        nn.init.zeros_(parameter)
    model.init_parameters()
    assert all((parameter != 0).any() for parameter in model.parameters())


def test_init_weights_reaches_every_linear_however_nested():
    model = Nested()
    model.init_weights("constant_", val=0.5)
    assert all(
        torch.equal(layer.weight, torch.full_like(layer.weight, 0.5)) for layer in model.linear_layers()
    )
    assert torch.equal(model.log_std_parameter, torch.zeros(2))


def test_init_weights_examples_uniform_and_default_orthogonal():
    model = Nested()
    model.init_weights(method_name="uniform_", a=-0.1, b=0.1)
    assert all(layer.weight.abs().max() <= 0.1 for layer in model.linear_layers())
    model.init_weights()
    assert all(_is_orthogonal(layer.weight, 1.0) for layer in model.linear_layers())


def test_init_weights_normal_example_has_the_requested_mean_and_std():
    class Wide(Model):
        def __init__(self):
            Model.__init__(self, 200, 200, "cpu")
            self.layer = nn.Linear(200, 200)

    model = Wide()
    model.init_weights(method_name="normal_", mean=0.0, std=0.25)
    assert model.layer.weight.mean().item() == pytest.approx(0.0, abs=0.01)
    assert model.layer.weight.std().item() == pytest.approx(0.25, abs=0.01)


def test_init_biases_reaches_nested_layers_and_skips_layers_without_bias():
    model = Nested()
    model.init_biases(method_name="constant_", val=0.25)
    biased = [layer for layer in model.linear_layers() if layer.bias is not None]
    assert len(biased) == 4
    assert all(torch.equal(layer.bias, torch.full_like(layer.bias, 0.25)) for layer in biased)
    model.init_biases(method_name="constant_", val=0)
    assert all(torch.equal(layer.bias, torch.zeros_like(layer.bias)) for layer in biased)
    model.init_biases(method_name="constant_", val=0.25)
    model.init_biases()  # constant_ defaults to 0
    assert all(torch.equal(layer.bias, torch.zeros_like(layer.bias)) for layer in biased)
    model.init_biases(method_name="normal_", mean=0.0, std=0.25)
    assert all((layer.bias != 0).any() for layer in biased)


def test_unknown_initialiser_raises_value_error_with_the_nearest_name():
    with pytest.raises(
        ValueError, match=r"unknown initialiser 'orthogonal' \(did you mean \"orthogonal_\"\?\)"
    ):
        Nested().init_weights("orthogonal")


# -------------------------------------------------------------- modes, grads


def test_set_mode_switches_train_and_eval():
    model = Nested()
    model.set_mode("eval")
    assert not model.training and not model.direct.training
    model.set_mode("train")
    assert model.training and model.direct.training


def test_set_mode_rejects_other_modes_with_the_nearest_one():
    with pytest.raises(
        ValueError, match=r"Invalid mode 'evaluate'. Use 'train' .* \(did you mean \"eval\"\?\)"
    ):
        Nested().set_mode("evaluate")


def test_freeze_parameters_toggles_requires_grad_of_every_parameter():
    model = Nested()
    model.freeze_parameters(True)
    assert not any(parameter.requires_grad for parameter in model.parameters())
    model.freeze_parameters(False)
    assert all(parameter.requires_grad for parameter in model.parameters())
    model.freeze_parameters()
    assert not any(parameter.requires_grad for parameter in model.parameters())


# ---------------------------------------------------------- update_parameters


def _filled(value):
    model = Nested()
    for parameter in model.parameters():
        nn.init.constant_(parameter, value)
    return model


def test_soft_update_moves_one_towards_three_by_a_quarter_to_one_and_a_half():
    target, source = _filled(1.0), _filled(3.0)
    target.update_parameters(source, polyak=0.25)
    assert all(torch.equal(p, torch.full_like(p, 1.5)) for p in target.parameters())
    assert all(torch.equal(p, torch.full_like(p, 3.0)) for p in source.parameters())


def test_soft_update_example_with_polyak_0_005_moves_one_to_1_01():
    target, source = _filled(1.0), _filled(3.0)
    target.update_parameters(source, polyak=0.005)
    assert all(torch.allclose(p, torch.full_like(p, 1.01)) for p in target.parameters())


def test_hard_update_copies_the_source_parameters():
    target, source = Nested(), Nested()
    target.update_parameters(source)
    for p, q in zip(target.parameters(), source.parameters()):
        assert torch.equal(p, q) and p.data_ptr() != q.data_ptr()


def test_update_parameters_copies_persistent_buffers_and_keeps_gradients_off():
    class WithNorm(Model):
        def __init__(self):
            Model.__init__(self, 3, 1, "cpu")
            self.norm = nn.BatchNorm1d(3)

    target, source = WithNorm(), WithNorm()
    source.norm(torch.randn(16, 3) * 5 + 2)
    target.update_parameters(source, polyak=0.005)
    torch.testing.assert_close(target.norm.running_mean, source.norm.running_mean, rtol=0, atol=0)
    assert target.norm.num_batches_tracked == 1
    assert all(p.grad is None for p in target.parameters())


def test_update_parameters_ignores_non_persistent_clip_bounds():
    clipped = MLPGaussian(clip_actions=True)
    unclipped = MLPGaussian(clip_actions=False)
    unclipped.update_parameters(clipped)
    assert not hasattr(unclipped, "clip_actions_min")


def test_update_parameters_from_another_architecture_raises():
    with pytest.raises(
        ValueError, match=r"update_parameters: the models' parameters differ .*same architecture"
    ):
        MLPGaussian(num_actions=2).update_parameters(MLPGaussian(num_actions=3))


def test_update_parameters_rejects_polyak_outside_zero_one():
    with pytest.raises(ValueError, match=r"polyak must be in \[0, 1\]"):
        Nested().update_parameters(Nested(), polyak=1.5)


# ----------------------------------------------------------------- save/load


def test_save_then_load_gives_identical_actions_under_the_same_seed(tmp_path):
    policy, restored = MLPGaussian(), MLPGaussian()
    policy.save(str(tmp_path / "model.pt"))
    restored.load(str(tmp_path / "model.pt"))
    states = torch.randn(5, 4)
    torch.manual_seed(3)
    expected = policy.act({"states": states}, role="policy")
    torch.manual_seed(3)
    actual = restored.act({"states": states}, role="policy")
    torch.testing.assert_close(actual[0], expected[0], rtol=0, atol=0)
    torch.testing.assert_close(actual[1], expected[1], rtol=0, atol=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_load_act_clip_and_random_act_use_the_models_device(tmp_path):
    MLPGaussian(clip_actions=True).save(str(tmp_path / "model.pt"))
    policy = MLPGaussian(clip_actions=True, device="cuda:0")
    policy.to(policy.device)
    policy.load(str(tmp_path / "model.pt"))
    assert policy.log_std_parameter.device.type == "cuda" and policy.clip_actions_min.device.type == "cuda"
    actions, log_prob, _ = policy.act({"states": torch.randn(3, 4, device="cuda:0")}, role="policy")
    assert actions.device.type == "cuda" and log_prob.device.type == "cuda"
    assert policy.random_act({"states": torch.zeros(3, 4, device="cuda:0")})[0].device.type == "cuda"


def test_load_leaves_the_model_in_eval_mode(tmp_path):
    policy = MLPGaussian()
    policy.save(str(tmp_path / "model.pt"))
    policy.train()
    policy.load(str(tmp_path / "model.pt"))
    assert not policy.training


def test_save_with_an_older_state_dict_writes_that_one(tmp_path):
    policy = MLPGaussian()
    old_state_dict = copy.deepcopy(policy.state_dict())
    nn.init.constant_(policy.log_std_parameter, 1.0)
    policy.save(str(tmp_path / "model.pt"), old_state_dict)
    policy.load(str(tmp_path / "model.pt"))
    torch.testing.assert_close(policy.log_std_parameter.data, torch.full((2,), -0.5))


def test_saved_file_holds_a_plain_state_dict_without_the_clip_bounds(tmp_path):
    policy = MLPGaussian(clip_actions=True)
    policy.save(str(tmp_path / "model.pt"))
    content = torch.load(tmp_path / "model.pt", weights_only=True)
    assert set(content) == set(policy.state_dict()) and "clip_actions_min" not in content


def test_load_of_a_missing_file_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        MLPGaussian().load(str(tmp_path / "absent.pt"))


def test_load_of_a_file_without_a_state_dict_raises_checkpoint_error(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match=r"holds a list, not a model state dict"):
        MLPGaussian().load(str(tmp_path / "list.pt"))


def test_load_of_another_models_state_dict_raises(tmp_path):
    MLPGaussian(num_actions=3).save(str(tmp_path / "model.pt"))
    with pytest.raises(RuntimeError, match="size mismatch"):
        MLPGaussian(num_actions=2).load(str(tmp_path / "model.pt"))


def test_clip_bounds_follow_to():
    policy = MLPGaussian(clip_actions=True).to(torch.float64)
    assert policy.clip_actions_min.dtype == torch.float64


def test_deepcopy_after_act_keeps_settings_and_starts_without_a_distribution():
    policy = MLPGaussian(clip_actions=True, reduction="none")
    policy.act({"states": torch.randn(3, 4)}, role="policy")
    target = copy.deepcopy(policy)
    assert target.distribution("policy") is None
    _, log_prob, _ = target.act({"states": torch.randn(3, 4)}, role="policy")
    assert log_prob.shape == (3, 2)


def test_model_spaces_may_be_boxes_with_per_dimension_bounds():
    assert Model(box(3), box(2, -1.0, 1.0), "cpu").num_actions == 2


def test_states_as_indexes_or_one_hot_of_a_discrete_part_are_both_accepted_widths():
    class Critic(DeterministicMixin, Model):
        def __init__(self):
            space = gymnasium.spaces.Dict({"pos": box(2), "goal": gymnasium.spaces.Discrete(3)})
            Model.__init__(self, space, 1, "cpu")  # 5 elements one-hot, 3 columns as an index
            DeterministicMixin.__init__(self)

        def compute(self, inputs, role=""):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    critic = Critic()
    with pytest.raises(RuntimeError, match="^mat1 and mat2"):
        critic.act({"states": torch.zeros(2, 3)})
    with pytest.raises(RuntimeError, match="^mat1 and mat2"):
        critic.act({"states": torch.zeros(2, 5)})
    with pytest.raises(ValueError, match=r'"states" should be \(N, 3\) or \(N, 5\) .* got \(2, 4\)'):
        critic.act({"states": torch.zeros(2, 4)})


SPEC_SIGNATURES = {
    Model.__init__: "(self, observation_space, action_space, device=None)",
    Model._get_space_size: "(self, space, number_of_elements=True)",
    Model.tensor_to_space: "(self, tensor, space, start=0)",
    Model.random_act: "(self, inputs, role='')",
    Model.init_parameters: "(self, method_name='normal_', *args, **kwargs)",
    Model.init_weights: "(self, method_name='orthogonal_', *args, **kwargs)",
    Model.init_biases: "(self, method_name='constant_', *args, **kwargs)",
    Model.get_specification: "(self)",
    Model.forward: "(self, inputs, role='')",
    Model.act: "(self, inputs, role='')",
    Model.compute: "(self, inputs, role='')",
    Model.set_mode: "(self, mode)",
    Model.save: "(self, path, state_dict=None)",
    Model.load: "(self, path)",
    Model.migrate: "(self, state_dict=None, path=None, name_map={}, auto_mapping=True, verbose=False)",
    Model.freeze_parameters: "(self, freeze=True)",
    Model.update_parameters: "(self, model, polyak=1)",
    GaussianMixin.__init__: (
        "(self, clip_actions=False, clip_log_std=True, min_log_std=-20, max_log_std=2, "
        "reduction='sum', role='')"
    ),
    DeterministicMixin.__init__: "(self, clip_actions=False, role='')",
    CategoricalMixin.__init__: "(self, unnormalized_log_prob=True, role='')",
    TabularMixin.__init__: "(self, num_envs=1, role='')",
}


@pytest.mark.parametrize("method", list(SPEC_SIGNATURES), ids=lambda method: method.__qualname__)
def test_signatures_match_the_api_text(method):
    signature = inspect.signature(method)
    unannotated = signature.replace(
        parameters=[p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()],
        return_annotation=inspect.Signature.empty,
    )
    assert str(unannotated) == SPEC_SIGNATURES[method]
