import torch

from rlblocks.agents.torch.parts import TargetNetworks
from rlblocks.models.torch import DeterministicMixin, Model


class Linear(DeterministicMixin, Model):
    def __init__(self, value):
        Model.__init__(self, 1, 1, "cpu")
        DeterministicMixin.__init__(self)
        self.layer = torch.nn.Linear(1, 1)
        with torch.no_grad():
            self.layer.weight.fill_(value)
            self.layer.bias.fill_(value)

    def compute(self, inputs, role=""):
        return self.layer(inputs["states"]), {}


def test_targets_start_as_frozen_hard_copies_and_follow_by_polyak():
    source, target = Linear(2.0), Linear(-1.0)
    targets = TargetNetworks([(target, source), (None, source), (Linear(0.0), None)])
    assert len(targets.pairs) == 1
    assert torch.equal(target.layer.weight, source.layer.weight)
    assert not any(parameter.requires_grad for parameter in target.parameters())
    with torch.no_grad():
        source.layer.weight.fill_(4.0)
    targets.update(polyak=0.25)  # 0.75·2 + 0.25·4
    assert torch.allclose(target.layer.weight, torch.tensor([[2.5]]))
    assert torch.allclose(target.layer.bias, torch.tensor([2.0]))  # the bias did not move: 0.75·2 + 0.25·2
