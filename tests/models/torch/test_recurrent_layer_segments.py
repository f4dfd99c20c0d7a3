"""`RecurrentLayer` in training mode: sequences cut at episode ends into segments run in one call."""

import pytest
import torch

from rlblocks.models.torch.recurrent import RecurrentLayer, segments


def test_segments_of_a_hand_made_batch():
    ends = torch.tensor([[False, True, False], [False, False, False], [True, False, True]])
    cut = segments(ends)
    assert cut.starts.tolist() == [0, 2, 3, 6, 7]
    assert cut.lengths.tolist() == [2, 1, 3, 1, 2]
    assert cut.sequence.tolist() == [0, 0, 1, 2, 2]
    assert cut.is_first.tolist() == [True, False, True, True, False]
    assert cut.segment.tolist() == [0, 0, 1, 2, 2, 2, 3, 4, 4]
    assert cut.position.tolist() == [0, 1, 0, 0, 1, 2, 0, 0, 1]
    assert cut.last_segment.tolist() == [1, 2, 4]


def step_by_step(layer, inputs, states, ends):
    """The reference: one step at a time in acting mode, states zeroed after an ended step."""
    layer.train(False)
    outputs = []
    for step in range(inputs.shape[1]):
        output, states = layer(inputs[:, step], states)
        outputs.append(output)
        keep = ~ends[:, step].view(1, -1, 1)
        states = [state * keep for state in states]
    layer.train(True)
    return torch.stack(outputs, 1), states


@pytest.mark.parametrize("episode_end_probability", [0.05, 0.5], ids=["padded-call", "step-loop"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_training_pass_equals_the_steps_outputs_and_final_states(kind, episode_end_probability):
    torch.manual_seed(0)
    sequences, length, layers, hidden = 7, 12, 2, 4
    layer = RecurrentLayer(kind, 3, hidden, num_layers=layers, sequence_length=length)
    inputs = torch.randn(sequences, length, 3)
    ends = torch.rand(sequences, length) < episode_end_probability
    ends[0] = False  # a sequence without episode end
    ends[1, -1] = True  # one that ends on its last step: final states zero
    starts = [torch.randn(layers, sequences, hidden) for _ in range(layer.num_states)]
    expected, expected_final = step_by_step(layer, inputs, starts, ends)
    # training layout: (S·L, ·) rows, states given for every row (the sequence-start ones are used)
    row_states = [state.repeat_interleave(length, dim=1) for state in starts]
    features, final = layer(inputs.reshape(-1, 3), row_states, ends.reshape(-1, 1))
    torch.testing.assert_close(features, expected.reshape(-1, hidden), atol=1e-6, rtol=0)
    for state, reference in zip(final, expected_final):
        torch.testing.assert_close(state, reference, atol=1e-6, rtol=0)
    assert not final[0][:, 1].any()


def test_gradients_flow_to_the_inputs_and_weights():
    torch.manual_seed(1)
    layer = RecurrentLayer("lstm", 3, 4, sequence_length=4)
    inputs = torch.randn(8, 3, requires_grad=True)
    ends = torch.tensor([False, True, False, False, False, False, True, False]).view(-1, 1)
    states = [torch.zeros(1, 8, 4), torch.zeros(1, 8, 4)]
    features, _ = layer(inputs, states, ends)
    features.sum().backward()
    assert inputs.grad.abs().sum() > 0
    assert all(parameter.grad is not None for parameter in layer.parameters())
