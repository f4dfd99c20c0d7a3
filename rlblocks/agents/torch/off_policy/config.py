"""Config sections the replay-based agents share (skrl 0.10's keys and defaults).

`OffPolicyConfig` holds what every replay agent reads (replay sampling, targets, preprocessing);
`ActorCriticConfig` adds the actor and critic learning rates of SAC, DDPG and TD3;
`NoiseExplorationConfig` and `EpsilonGreedyConfig` are the nested ``exploration`` sections of
DDPG/TD3 and DQN/DDQN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlblocks.agents.torch.config import AgentConfig, ExperimentConfig, GradientAgentKeys, check_warm_up_keys
from rlblocks.resources.schedulers.torch import KLAdaptiveRL
from rlblocks.utils.config import Config, check_non_negative, check_positive, check_range


@dataclass(kw_only=True)
class ReplayExperimentConfig(ExperimentConfig):
    """The ``experiment`` section of the replay-based agents: `ExperimentConfig` and ``checkpoint_memory``."""

    checkpoint_memory: bool = True
    """Save the replay memory beside each checkpoint (``replay_memory_<t>.pt``; only the latest is
    kept), so a resumed run samples from the same buffer. False for buffers too large to write: a
    resume then starts from an empty memory, says so, and waits ``learning_starts`` new steps."""


REPLAY_STORAGES = ("auto", "transitions", "next_row", "frames")


@dataclass(kw_only=True)
class OffPolicyConfig(GradientAgentKeys, AgentConfig):
    """Keys of every replay-based agent (schedulers step after each step of their optimizer)."""

    experiment: ReplayExperimentConfig = field(default_factory=ReplayExperimentConfig)
    """Logging and checkpoint settings (with ``checkpoint_memory``)."""

    gradient_steps: int = 1
    """Gradient steps per update; each one samples a fresh batch."""
    batch_size: int = 64
    """Transitions per sampled batch."""
    discount_factor: float = 0.99
    """γ in [0, 1]."""
    polyak: float = 0.005
    """ρ of the target-network update θ̄ ← (1 − ρ)·θ̄ + ρ·θ, in [0, 1]; 1 is a hard copy."""
    replay_storage: str = "auto"
    """How transitions are stored (an rlblocks key, see `rlblocks.memories.torch.frames`):
    "transitions" (separate states and next_states tensors, skrl's layout), "next_row" (one
    observation per row, next states from the next row), "frames" (one frame per row of (k, H, W)
    frame stacks, rebuilt when sampled), "auto": "frames" for a uint8 (k, H, W) stack with k in
    (2, 4..8) and H, W >= 32 (e.g. Atari's (4, 84, 84)), "next_row" for other image observations,
    else "transitions". Recurrent models always use "transitions"."""
    replay_side_capacity: int | None = None
    """Final frames of ended episodes kept with "next_row"/"frames" (None: rows / 32 + 4 per env)."""

    def __post_init__(self) -> None:
        if self.replay_storage not in REPLAY_STORAGES:
            raise ValueError(
                f'config key "replay_storage" must be one of {list(REPLAY_STORAGES)}, got '
                f'{self.replay_storage!r}; "auto" picks the compact layouts for image observations.'
            )
        if self.replay_side_capacity is not None:
            check_positive("replay_side_capacity", self.replay_side_capacity)
        check_positive("gradient_steps", self.gradient_steps)
        check_positive("batch_size", self.batch_size)
        check_range("discount_factor", self.discount_factor, 0.0, 1.0)
        check_range("polyak", self.polyak, 0.0, 1.0)
        check_warm_up_keys(self)
        if isinstance(self.learning_rate_scheduler, type) and issubclass(
            self.learning_rate_scheduler, KLAdaptiveRL
        ):
            raise ValueError(
                'config key "learning_rate_scheduler": KLAdaptiveRL adapts to the KL divergence of an '
                "on-policy update, which replay-based agents do not have; use a torch.optim.lr_scheduler "
                "class (e.g. LinearLR) or None."
            )


@dataclass(kw_only=True)
class ActorCriticConfig(OffPolicyConfig):
    """Keys of the replay-based actor-critics (SAC, DDPG, TD3)."""

    actor_learning_rate: float = 1e-3
    """Adam learning rate of the policy."""
    critic_learning_rate: float = 1e-3
    """Adam learning rate of the critics."""
    grad_norm_clip: float = 0
    """Clip each optimizer's gradients to this global norm (0 = no clipping)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("actor_learning_rate", self.actor_learning_rate)
        check_positive("critic_learning_rate", self.critic_learning_rate)
        check_non_negative("grad_norm_clip", self.grad_norm_clip)


@dataclass(kw_only=True)
class NoiseExplorationConfig(Config):
    """DDPG/TD3's ``exploration`` section: noise added to the policy's actions while training.

    The noise is multiplied by a scale that falls linearly from ``initial_scale`` at timestep 0 to
    ``final_scale`` at ``timesteps``; after that no noise is added (skrl 0.10's schedule).
    """

    KIND = "exploration"

    noise: Any = None
    """A noise instance (GaussianNoise, OrnsteinUhlenbeckNoise, ...); None adds no noise."""
    initial_scale: float = 1.0
    """Noise scale at timestep 0."""
    final_scale: float = 1e-3
    """Noise scale at ``timesteps``."""
    timesteps: int | None = None
    """Length of the schedule; None: the trainer's ``timesteps``."""

    def __post_init__(self) -> None:
        check_noise('"exploration"["noise"]', self.noise)
        check_non_negative("initial_scale", self.initial_scale)
        check_non_negative("final_scale", self.final_scale)
        if self.timesteps is not None:
            check_non_negative("timesteps", self.timesteps)


@dataclass(kw_only=True)
class EpsilonGreedyConfig(Config):
    """DQN/DDQN's ``exploration`` section: ε-greedy with ε(t) = ε_f + (ε_i − ε_f)·exp(−t / timesteps)."""

    KIND = "exploration"

    initial_epsilon: float = 1.0
    """ε at timestep 0, in [0, 1]."""
    final_epsilon: float = 0.05
    """The value ε decays to, in [0, 1]."""
    timesteps: int | None = 1000
    """Time constant T of the exponential decay (ε within 5% of final after 3T); 0 or None: greedy."""

    def __post_init__(self) -> None:
        check_range("initial_epsilon", self.initial_epsilon, 0.0, 1.0)
        check_range("final_epsilon", self.final_epsilon, 0.0, 1.0)
        if self.timesteps is not None:
            check_non_negative("timesteps", self.timesteps)


def check_noise(name: str, noise: Any) -> None:
    """Raise ValueError unless ``noise`` is None or has a ``sample(size)`` method.

    Raises:
        ValueError: anything else, e.g. a noise class instead of an instance.
    """
    if noise is not None and (isinstance(noise, type) or not callable(getattr(noise, "sample", None))):
        raise ValueError(
            f"config key {name} must be a noise instance with a sample(size) method, e.g. "
            f"GaussianNoise(mean=0, std=0.1), or None; got {noise!r}"
        )
