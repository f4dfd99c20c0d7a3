"""PPO's update, shared by the agents that optimise the clipped surrogate (PPO, RPO).

``learning_epochs`` x ``mini_batches`` steps on the rollout's clipped surrogate and (optionally
clipped) value loss, with the KL early stop and per-epoch scheduler steps. The taken actions'
log-prob comes from the agent's `OnPolicyAgent.taken_action_log_prob`, so an agent changes how
they are re-evaluated (RPO perturbs the mean) without touching the losses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from rlblocks.agents.torch.functional.losses import approximate_kl, clipped_surrogate_loss, clipped_value_loss
from rlblocks.agents.torch.on_policy.losses import Losses, LossTotals
from rlblocks.utils import distributed

if TYPE_CHECKING:
    from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout


def clipped_losses(agent: OnPolicyAgent, batch: Rollout, is_kl_needed: bool = True) -> Losses:
    """The clipped-surrogate, value and entropy losses of one mini-batch, and its approximate KL.

    ``agent.cfg`` must hold PPO's keys (`PPOConfig`). Without ``is_kl_needed`` the KL is not
    computed (a 0-d zero stands for it).
    """
    cfg = agent.cfg
    log_prob = agent.taken_action_log_prob(batch)
    with torch.no_grad():
        approx_kl = approximate_kl(log_prob, batch.log_prob) if is_kl_needed else log_prob.new_zeros(())
    policy_loss = clipped_surrogate_loss(log_prob, batch.log_prob, batch.advantages, cfg.ratio_clip)
    entropy_loss = agent.entropy_loss(cfg.entropy_loss_scale, log_prob.device)
    value_loss = cfg.value_loss_scale * clipped_value_loss(
        agent.predicted_values(batch), batch.values, batch.returns, cfg.value_clip, cfg.clip_predicted_values
    )
    return Losses(policy_loss, value_loss, entropy_loss, approx_kl)


def clipped_update(agent: OnPolicyAgent) -> None:
    """One PPO update of ``agent`` on its last rollout; tracks the mean losses of the mini-batches run.

    The KL early stop (``kl_threshold``) ends the whole update; the scheduler steps after each
    epoch, a KL-driven one with the epoch's mean KL. The KL is read on the host only when the early
    stop or a KL-driven scheduler needs it, and computed only then or when logging; the loss totals
    only when logging. Under torchrun each mini-batch's KL is averaged over the ranks before it
    is compared, so all ranks stop at the same mini-batch (skrl compares each rank's own KL, and a
    rank that stops alone leaves the others waiting in their next all-reduce).
    """
    cfg = agent.cfg
    rollout = agent.rollout_with_advantages()
    is_kl_read = cfg.kl_threshold > 0 or agent.optimisation.uses_kl
    is_logging = agent.is_logging
    is_kl_reduced = is_kl_read and distributed.is_distributed()
    totals = LossTotals(rollout.states.device)
    for _ in range(cfg.learning_epochs):
        epoch_kls = []
        is_kl_exceeded = False
        for batch in agent.minibatches(rollout, cfg.mini_batches):
            losses = clipped_losses(agent, batch, is_kl_needed=is_kl_read or is_logging)
            if is_kl_reduced:
                losses = losses._replace(approx_kl=distributed.mean_over_ranks(losses.approx_kl))
            epoch_kls.append(losses.approx_kl)
            if is_kl_read and _is_kl_too_large(losses, cfg.kl_threshold):
                is_kl_exceeded = True
                break
            agent.optimisation(losses.total)
            if is_logging:
                totals.add(losses)
        agent.optimisation.step_scheduler(kl=torch.stack(epoch_kls).mean() if is_kl_read else None)
        if is_kl_exceeded:
            break
    agent.track_losses(totals.mean())


def _is_kl_too_large(losses: Losses, kl_threshold: float) -> bool:
    """Whether the KL early stop fires (one host read of the mini-batch's KL)."""
    return kl_threshold > 0 and bool(losses.approx_kl > kl_threshold)
