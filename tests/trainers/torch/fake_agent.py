"""A fake agent that records every hook call the trainers make, for the trainer tests."""

import threading

import torch


class FakeAgent:
    """Acts with a constant action and records calls, the tensors it was given and the grad mode.

    `calls` holds tuples: ("init",), ("set_running_mode", mode), and (hook, timestep, timesteps)
    for pre_interaction, act, record_transition and post_interaction. `post_interaction` sets
    `timestep = timestep + 1`, as the real agents do.
    """

    def __init__(self, action_value=1, action_width=1, fail_in=None):
        self.action_value = action_value
        self.action_width = action_width
        self.fail_in = fail_in
        self.calls = []
        self.acted_on = []  # (states tensor as given, a clone taken at the call)
        self.transitions = []  # dict of cloned tensors per record_transition
        self.grad_enabled = []  # torch.is_grad_enabled() in act and record_transition
        self.threads = set()
        self.timestep = 0
        self.recent_mean_return = None
        self.trainer_cfg = None
        self.training = True

    def _note(self, *call):
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)
        if self.fail_in == call[0]:
            raise RuntimeError(f"fake failure in {call[0]}")

    def init(self, trainer_cfg=None):
        self.trainer_cfg = dict(trainer_cfg)
        self._note("init")

    def set_running_mode(self, mode):
        self.training = mode == "train"
        self._note("set_running_mode", mode)

    def pre_interaction(self, timestep, timesteps):
        self._note("pre_interaction", timestep, timesteps)

    def act(self, states, timestep, timesteps):
        self._note("act", timestep, timesteps)
        self.grad_enabled.append(torch.is_grad_enabled())
        self.acted_on.append((states, states.clone()))
        actions = torch.full((states.shape[0], self.action_width), self.action_value, dtype=torch.int64)
        return actions, None, {}

    def record_transition(
        self, states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps
    ):
        self._note("record_transition", timestep, timesteps)
        self.grad_enabled.append(torch.is_grad_enabled())
        tensors = {
            "states": states,
            "actions": actions,
            "rewards": rewards,
            "next_states": next_states,
            "terminated": terminated,
            "truncated": truncated,
        }
        self.transitions.append({name: tensor.clone() for name, tensor in tensors.items()} | {"infos": infos})

    def post_interaction(self, timestep, timesteps):
        self._note("post_interaction", timestep, timesteps)
        self.timestep = timestep + 1

    def hooks(self, name):
        """The (timestep, timesteps) of every call to hook `name`."""
        return [call[1:] for call in self.calls if call[0] == name]
