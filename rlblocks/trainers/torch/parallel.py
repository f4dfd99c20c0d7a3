"""`ParallelTrainer`: the agents' hooks run concurrently, one worker thread per agent.

Each step, every agent runs `pre_interaction` + `act` on its env slice in its own thread; the main
thread stacks the actions and steps the env; then every agent runs `record_transition` +
`post_interaction` (where its update happens) in its thread. The env is only touched by the main
thread, and each agent only by its own worker, so each agent sees exactly the calls, in the same
order, that `SequentialTrainer` makes.

Differs from skrl 0.10, which runs one *process* per agent (torch.multiprocessing "spawn", shared
memory, pipes and a barrier): threads need no pickling of agents, keep a single copy of each agent
(so after `train()` the caller's agent objects hold the learnt state, timestep and statistics; in
skrl only the shared model parameters come back), work with `None` models (skrl crashes, bug #26)
and with CUDA tensors, and start instantly. Torch kernels release the GIL, so the agents' updates
(the costly part) do run in parallel; pure-Python work is serialised. With one agent no thread is
used. Measured (``benchmarks/parallel_trainer.py``, see benchmarks/README.md): starting one process
per agent costs seconds before the first step, the threads none.

Under torchrun (several ranks) the agents run one after another on the main thread, as with
`SequentialTrainer`: each agent's all-reduces must reach every rank in the same order, which
concurrent threads would not guarantee (rank 0 could pair agent 1's gradients with rank 1's agent 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch

from rlblocks.trainers.torch.base import Trainer, record_with_hint
from rlblocks.trainers.torch.config import TrainerConfig
from rlblocks.utils import distributed

PARALLEL_TRAINER_DEFAULT_CONFIG = TrainerConfig.defaults()
"""Default config (see `SequentialTrainer`)."""


class ParallelTrainer(Trainer):
    """Train or evaluate several agents with their hooks running concurrently (see the module doc).

    The agents' `init(trainer_cfg=cfg)` is called in the constructor. See `Trainer` for the
    arguments and the step loop.
    """

    STRICT_CONFIG = True
    INITS_AGENTS = True
    _workers: Sequence[ThreadPoolExecutor] = ()
    """One single-thread executor per agent while a multi-agent run is on; empty otherwise."""
    _training = True
    """Whether the current run trains (the workers call `pre_interaction` only then)."""

    def train(self) -> None:
        """Train for `cfg["timesteps"]` timesteps (from the agents' `timestep` with `resume`)."""
        self._run_with_workers(training=True)

    def eval(self) -> None:
        """Evaluate for `cfg["timesteps"]` timesteps with the agents in eval running mode."""
        self._run_with_workers(training=False)

    def _run_with_workers(self, training: bool) -> None:
        if self.num_agents == 1 or distributed.is_distributed():
            # under torchrun the agents' collectives must reach every rank in the same order: one thread
            self._run(training)
            return
        self._training = training
        # one single-thread executor per agent: an agent's calls always run on the same thread
        self._workers = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rlblocks-agent-{index}")
            for index in range(self.num_agents)
        ]
        try:
            self._run(training)
        finally:
            for worker in self._workers:
                worker.shutdown(wait=True)
            self._workers = ()

    def _pre_interaction(self, timestep: int, timesteps: int) -> None:
        if not self._workers:
            super()._pre_interaction(timestep, timesteps)
        # otherwise done by each worker together with `act`

    def _act(self, states: torch.Tensor, timestep: int, timesteps: int) -> torch.Tensor:
        if not self._workers:
            return super()._act(states, timestep, timesteps)

        def act(agent: Any, scope: slice) -> torch.Tensor:
            if self._training:
                agent.pre_interaction(timestep=timestep, timesteps=timesteps)
            with torch.no_grad():  # grad mode is per thread
                return agent.act(states[scope], timestep=timestep, timesteps=timesteps)[0]

        return torch.vstack(self._on_every_agent(act))

    def _record_transition(
        self,
        transition: dict[str, torch.Tensor],
        infos: Any,
        timestep: int,
        timesteps: int,
        any_ended: bool | None = None,
    ) -> None:
        if not self._workers:
            super()._record_transition(transition, infos, timestep, timesteps, any_ended)
            return

        def record_and_post_interaction(agent: Any, scope: slice) -> None:
            with torch.no_grad():
                record_with_hint(
                    agent, any_ended, self._sliced(transition, scope), infos, timestep, timesteps
                )
            agent.post_interaction(timestep=timestep, timesteps=timesteps)

        self._on_every_agent(record_and_post_interaction)

    def _post_interaction(self, timestep: int, timesteps: int) -> None:
        if not self._workers:
            super()._post_interaction(timestep, timesteps)
        # otherwise done by each worker right after `record_transition`

    def _on_every_agent(self, task: Callable[[Any, slice], Any]) -> list[Any]:
        """Run `task(agent, scope)` for every agent on its worker; the results in agent order.

        Waits for every agent before raising the first error, so no worker is left mid-call.
        """
        futures: list[Future] = [
            worker.submit(task, agent, scope)
            for worker, agent, scope in zip(self._workers, self._agents, self._slices)
        ]
        errors = [future.exception() for future in futures]
        for error in errors:
            if error is not None:
                raise error
        return [future.result() for future in futures]
