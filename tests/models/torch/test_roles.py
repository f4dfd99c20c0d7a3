"""Role-aware settings: one module under several roles, fallback of unknown roles, state per call role."""

import copy

import gymnasium
import pytest
import torch
from torch import nn

from rlblocks.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model
from rlblocks.models.torch.roles import RoleTable
from tests.models.torch.models import box

STATES = torch.tensor([[0.0, 1.0], [2.0, -1.0]])


class TwoRoleGaussian(GaussianMixin, Model):
    """Mean = states; log-std 10 (clamped to 2 when the role clips it). Roles registered as given."""

    def __init__(self, registrations):
        Model.__init__(self, box(2), box(2), "cpu")
        for kwargs in registrations:
            GaussianMixin.__init__(self, **kwargs)
        self.log_std_parameter = nn.Parameter(torch.full((2,), 10.0))

    def compute(self, inputs, role=""):
        return inputs["states"], self.log_std_parameter, {}


def test_each_role_uses_its_own_settings():
    model = TwoRoleGaussian(
        [{"role": "policy", "reduction": "sum"}, {"role": "explore", "reduction": "none"}]
    )
    assert model.act({"states": STATES}, role="policy")[1].shape == (2, 1)
    assert model.act({"states": STATES}, role="explore")[1].shape == (2, 2)


def test_unknown_role_falls_back_to_the_default_role_settings():
    model = TwoRoleGaussian([{"role": "policy", "reduction": "sum"}, {"role": "", "reduction": "none"}])
    assert model.act({"states": STATES}, role="target_policy")[1].shape == (2, 2)
    assert model.act({"states": STATES})[1].shape == (2, 2)


def test_named_only_registration_falls_back_to_the_first_role_instead_of_a_key_error():
    """skrl 0.10 raises KeyError: '' here."""
    model = TwoRoleGaussian([{"role": "policy", "reduction": "none", "clip_log_std": False}])
    model.act({"states": STATES}, role="other")
    torch.testing.assert_close(model.get_log_std("other"), torch.full((2, 2), 10.0))


def test_clip_log_std_per_role():
    model = TwoRoleGaussian([{"role": "clamped"}, {"role": "raw", "clip_log_std": False}])
    model.act({"states": STATES}, role="clamped")
    model.act({"states": STATES}, role="raw")
    torch.testing.assert_close(model.get_log_std("clamped"), torch.full((2, 2), 2.0))
    torch.testing.assert_close(model.get_log_std("raw"), torch.full((2, 2), 10.0))


def test_run_time_state_is_stored_under_the_call_role():
    model = TwoRoleGaussian([{"role": "a"}, {"role": "b"}])
    model.act({"states": STATES}, role="a")
    model.act({"states": STATES + 100}, role="b")
    torch.testing.assert_close(model.distribution("a").mean, STATES)
    torch.testing.assert_close(model.distribution("b").mean, STATES + 100)


def test_a_role_that_never_acted_sees_the_latest_distribution():
    model = TwoRoleGaussian([{"role": ""}])
    model.act({"states": STATES}, role="policy")
    torch.testing.assert_close(model.distribution().mean, STATES)
    torch.testing.assert_close(model.get_entropy(), model.get_entropy("policy"))


class SharedPolicyValue(GaussianMixin, DeterministicMixin, Model):
    """One trunk, a mean head and a value head, dispatching `act` on the role."""

    def __init__(self):
        Model.__init__(self, box(3), box(2, -1.0, 1.0), "cpu")
        GaussianMixin.__init__(self, clip_actions=True, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.trunk = nn.Linear(3, 8)
        self.mean_head = nn.Linear(8, 2)
        self.value_head = nn.Linear(8, 1)
        self.log_std_parameter = nn.Parameter(torch.zeros(2))

    def act(self, inputs, role=""):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role=""):
        features = torch.tanh(self.trunk(inputs["states"]))
        if role == "policy":
            return self.mean_head(features), self.log_std_parameter, {}
        return self.value_head(features), {}


def test_shared_model_acts_as_policy_and_as_value_by_role():
    model = SharedPolicyValue()
    states = torch.randn(4, 3) * 10
    actions, log_prob, outputs = model.act({"states": states}, role="policy")
    assert actions.shape == (4, 2) and log_prob.shape == (4, 1) and "mean_actions" in outputs
    assert actions.abs().max() <= 1
    values, no_log_prob, _ = model.act({"states": states}, role="value")
    assert values.shape == (4, 1) and no_log_prob is None


def test_value_role_is_not_clipped_by_the_policy_roles_setting():
    model = SharedPolicyValue()
    nn.init.constant_(model.value_head.bias, 50.0)
    values, _, _ = model.act({"states": torch.zeros(2, 3)}, role="value")
    assert (values > 1).all()


def test_two_stochastic_mixins_on_one_module_keep_separate_tables():
    class Hybrid(GaussianMixin, CategoricalMixin, Model):
        def __init__(self):
            Model.__init__(self, box(2), gymnasium.spaces.Discrete(2), "cpu")
            GaussianMixin.__init__(self, reduction="none", role="continuous")
            CategoricalMixin.__init__(self, role="discrete")

    model = Hybrid()
    assert model._g_roles.roles == ["continuous"] and model._c_roles.roles == ["discrete"]


def test_deepcopy_keeps_every_roles_settings():
    model = TwoRoleGaussian(
        [{"role": "policy", "reduction": "sum"}, {"role": "explore", "reduction": "none"}]
    )
    model.act({"states": STATES}, role="policy")
    copied = copy.deepcopy(model)
    assert copied._g_roles.roles == ["policy", "explore"]
    assert copied.act({"states": STATES}, role="explore")[1].shape == (2, 2)


# ----------------------------------------------------------------- RoleTable


def test_role_table_default_is_the_empty_role_else_the_first_registered():
    table = RoleTable()
    table.register("policy", 1)
    table.register("value", 2)
    assert table.settings("unknown") == 1
    table.register("", 3)
    assert (table.settings("unknown"), table.settings("value")) == (3, 2)


def test_role_table_state_falls_back_to_the_latest_and_require_state_raises_before_any():
    table = RoleTable()
    assert table.state("policy") is None
    with pytest.raises(
        RuntimeError, match=r"get_entropy\(role='policy'\) needs a distribution: call act\(\) first"
    ):
        table.require_state("policy", "get_entropy")
    table.store("a", "first")
    table.store("b", "second")
    assert (table.state("a"), table.state("b"), table.state("c")) == ("first", "second", "second")
