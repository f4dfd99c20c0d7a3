import pytest
import torch

from rlblocks.agents.torch.parts import OptimisationStep
from rlblocks.agents.torch.parts.optimisation import takes_kl
from rlblocks.resources.schedulers.torch import KLAdaptiveRL


def linear():
    layer = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    return layer


def test_a_step_clips_the_global_gradient_norm_before_adam():
    """loss = 10·(w1 + w2): gradient (10, 10), norm 14.14, clipped to norm 1 -> (0.707, 0.707).

    Adam's first step moves each weight by lr·g/|g| = lr whatever the scale, so the clip is seen in
    the stored gradient, and the step in the weights: 1 − 0.1 = 0.9.
    """
    layer = linear()
    step = OptimisationStep(layer.parameters(), learning_rate=0.1, grad_norm_clip=1.0)
    step(10 * layer.weight.sum())
    assert torch.allclose(layer.weight.grad, torch.full((1, 2), 2**-0.5))
    assert torch.allclose(layer.weight, torch.full((1, 2), 0.9))


def test_without_clipping_the_gradient_is_left_alone():
    layer = linear()
    OptimisationStep(layer.parameters(), learning_rate=0.1)(10 * layer.weight.sum())
    assert torch.equal(layer.weight.grad, torch.full((1, 2), 10.0))


def test_a_plain_scheduler_steps_without_arguments():
    layer = linear()
    step = OptimisationStep(
        layer.parameters(),
        1.0,
        scheduler_class=torch.optim.lr_scheduler.StepLR,
        scheduler_kwargs={"step_size": 1, "gamma": 0.5},
    )
    assert not step.uses_kl
    step(layer.weight.sum())
    step.step_scheduler(kl=123.0)  # ignored by a scheduler that does not take it
    assert step.learning_rate == 0.5


def test_a_kl_driven_scheduler_receives_the_kl_by_the_protocol_not_by_its_class():
    layer = linear()
    step = OptimisationStep(
        layer.parameters(), 1e-3, scheduler_class=KLAdaptiveRL, scheduler_kwargs={"kl_threshold": 0.01}
    )
    assert step.uses_kl
    step.step_scheduler(kl=torch.tensor(1.0))  # far above 2 x threshold: lr / 1.5
    assert step.learning_rate == pytest.approx(1e-3 / 1.5)

    class OwnKLScheduler:
        def __init__(self, optimizer):
            self.seen = []

        def step(self, kl=None):
            self.seen.append(kl)

    own = OptimisationStep(linear().parameters(), 1e-3, scheduler_class=OwnKLScheduler)
    own.step_scheduler(kl=0.5)
    assert own.uses_kl and own.scheduler.seen == [0.5]
    assert not takes_kl(object())


def test_register_names_the_optimizer_and_the_scheduler():
    class Agent:
        def __init__(self):
            self.modules = {}

        def register_checkpoint_module(self, name, module):
            self.modules[name] = module

    agent = Agent()
    layer = linear()
    OptimisationStep(layer.parameters(), 1.0).register(agent, "optimizer", "scheduler")
    assert list(agent.modules) == ["optimizer"]
    scheduled = OptimisationStep(
        layer.parameters(),
        1.0,
        scheduler_class=torch.optim.lr_scheduler.StepLR,
        scheduler_kwargs={"step_size": 1},
    )
    scheduled.register(agent, "critic_optimizer", "critic_scheduler")
    assert agent.modules["critic_scheduler"] is scheduled.scheduler
