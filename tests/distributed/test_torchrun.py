"""Training on several processes: the scripts of ``scripts/`` under torchrun, 2 ranks, gloo on CPU.

Each test launches ``torchrun`` in a subprocess session with a time limit (`launch`), so a hang
fails the test. Timings on a loaded 2-core machine: 10-35 s per test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from rlblocks.agents.torch import tags
from rlblocks.resources.preprocessors.torch import RunningStandardScaler
from tests.distributed import launch

LIMIT = 60.0
"""The time within which a failing or stopping job must end (the hang tests)."""
GUARD = 120.0
"""The hard limit of the other launches (measured: 7-35 s each on the loaded 2-core VM)."""


def flattened(state, prefix: str = "") -> dict:
    """{"policy.net.0.weight.": tensor, "optimizer.state.0.exp_avg.": tensor, ...}; numbers become tensors."""
    if isinstance(state, dict):
        items = state.items()
    elif isinstance(state, (list, tuple)):
        items = enumerate(state)
    elif isinstance(state, (bool, int, float)):
        return {prefix: torch.tensor(state)}
    elif torch.is_tensor(state):
        return {prefix: state}
    else:  # None, strings: compared as they are
        return {prefix: state}
    return {key: value for name, item in items for key, value in flattened(item, f"{prefix}{name}.").items()}


def load(path: Path) -> dict:
    return flattened(torch.load(path, weights_only=True))


def assert_bitwise_equal(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    unequal = [
        key
        for key, value in first.items()
        if not (torch.equal(value, second[key]) if torch.is_tensor(value) else value == second[key])
    ]
    assert not unequal, f"the ranks differ in {unequal}"


def assert_close(actual: dict, expected: dict, tolerance: float) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if torch.is_tensor(value):
            torch.testing.assert_close(
                actual[key], value, rtol=tolerance, atol=tolerance, msg=lambda m, key=key: f"{key}: {m}"
            )
        else:
            assert actual[key] == value, key


@pytest.mark.parametrize("algorithm", ["ppo", "sac"])
def test_two_ranks_with_half_the_batch_each_equal_one_process_with_all_of_it(tmp_path, algorithm):
    """PPO (state and value normalisers, KL-adaptive lr, grad clipping) and SAC (learnt α): 2 updates.

    Every entry of the agents' checkpoints is compared: parameters, buffers, Adam's moments and
    step counts, the normalisers' statistics, α and the learning rate.
    """
    launch.check(launch.single("updates.py", algorithm, str(tmp_path), limit=GUARD))
    launch.check(launch.torchrun("updates.py", algorithm, str(tmp_path), limit=GUARD))
    for update in (0, 1):
        single, rank0, rank1 = (load(tmp_path / f"{tag}_{update}.pt") for tag in ("single", "rank0", "rank1"))
        assert_bitwise_equal(rank0, rank1)
        assert_close(rank0, single, 1e-6)
    if algorithm == "sac":
        assert abs(single["alpha."].item() - 0.2) > 1e-3  # α was learnt (from 0.2)


def test_pooled_normaliser_statistics_equal_those_of_the_concatenated_data(tmp_path):
    launch.check(launch.torchrun("normaliser.py", str(tmp_path), limit=GUARD))
    spec = importlib.util.spec_from_file_location("normaliser", launch.SCRIPTS / "normaliser.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    expected = RunningStandardScaler(3, device="cpu")
    for step_batches in zip(script.batches(0), script.batches(1)):
        expected(torch.cat(step_batches), train=True)
    rank0, rank1 = (load(tmp_path / f"rank{rank}.pt") for rank in (0, 1))
    assert_bitwise_equal(rank0, rank1)
    assert rank0["current_count."].item() == 1 + 5 + 13 + 1 + 1 + 7 + 2
    assert_close(rank0, flattened(expected.state_dict()), 1e-12)


def test_a_kl_early_stop_seen_by_one_rank_only_stops_both_together(tmp_path):
    """Rank 1's own KL alone is over the threshold (rank 0's is 0): the averaged KL stops both at once."""
    finished = launch.torchrun("updates.py", "ppo", str(tmp_path), "early_stop", limit=LIMIT)
    launch.check(finished)
    assert finished.seconds < LIMIT
    rank0, rank1 = (load(tmp_path / f"rank{rank}_1.pt") for rank in (0, 1))
    assert_bitwise_equal(rank0, rank1)
    assert rank0["optimizer_steps."].tolist() == [0, 0]  # both stopped at the first mini-batch


def test_an_optimizer_step_is_one_all_reduce_and_a_nan_loss_on_one_rank_skips_on_both(tmp_path):
    """The loss's finiteness check rides in the gradients' all-reduce: 1 collective per step, not 2."""
    launch.check(launch.torchrun("one_collective.py", str(tmp_path), limit=GUARD))
    rank0, rank1 = (torch.load(tmp_path / f"rank{rank}.pt") for rank in (0, 1))
    assert rank0["collectives"] == rank1["collectives"] == [1, 1, 1, 1]
    assert rank0["skipped"] == rank1["skipped"] == 1  # rank 0's loss was finite: it skipped too
    assert torch.equal(rank0["parameters"], rank1["parameters"])
    steps = rank0["parameters"]
    assert torch.equal(steps[2], steps[1])  # the NaN step was not taken
    assert not torch.equal(steps[3], steps[2]) and not torch.equal(steps[1], steps[0])
    if len(rank0["started_on"]) >= 2:  # each rank got its own half of the cores (one thread each)
        half = len(rank0["started_on"]) // 2
        assert rank0["cores"] == rank0["started_on"][:half]
        assert rank1["cores"] == rank1["started_on"][half : 2 * half]


def test_lazily_built_models_end_equal_on_both_ranks(tmp_path):
    """nn.LazyLinear models: built at the first act with each rank's own values, then rank 0's."""
    launch.check(launch.torchrun("lazy.py", str(tmp_path), limit=GUARD))
    assert_bitwise_equal(load(tmp_path / "rank0.pt"), load(tmp_path / "rank1.pt"))


def test_a_rank_that_raises_during_set_up_ends_the_job_with_an_error(tmp_path):
    finished = launch.torchrun("setup_error.py", limit=LIMIT, RLBLOCKS_DISTRIBUTED_TIMEOUT="30")
    assert finished.returncode not in (0, -9), finished.output[-3000:]  # an error, not a hang
    assert "rank 1 failed during set-up" in finished.output
    assert "got past a broadcast" not in finished.output


def test_a_stuck_rank_ends_the_job_with_an_error_after_the_timeout(tmp_path):
    """Rank 1 sleeps instead of joining: rank 0 gives up after RLBLOCKS_DISTRIBUTED_TIMEOUT (5 s)."""
    finished = launch.torchrun("setup_error.py", "stuck", limit=LIMIT, RLBLOCKS_DISTRIBUTED_TIMEOUT="5")
    assert finished.returncode not in (0, -9), finished.output[-3000:]  # an error, not a hang
    assert "timeout" in finished.output
    assert "got past a broadcast" not in finished.output


def test_only_rank_0_creates_files_and_the_ranks_agree_bitwise(tmp_path):
    runs, params = tmp_path / "runs", tmp_path / "params"
    runs.mkdir()
    params.mkdir()
    launch.check(launch.torchrun("train_ppo.py", str(runs), str(params), limit=GUARD))
    assert sorted(path.name for path in runs.iterdir()) == ["run_rank0"]
    written = sorted(str(path.relative_to(runs / "run_rank0")) for path in (runs / "run_rank0").rglob("*"))
    assert "checkpoints/agent_64.pt" in written
    assert sum(name.startswith("events.out.tfevents") for name in written) == 1
    assert_bitwise_equal(load(params / "rank0.pt"), load(params / "rank1.pt"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(runs / "run_rank0"))
    events.Reload()
    global_steps = [event.value for event in events.Scalars(tags.GLOBAL_ENV_STEPS)]
    assert global_steps[-1] == 64 * 16 * 2  # timesteps x envs per rank x ranks


def test_two_nodes_on_localhost_train_ppo_and_agree_bitwise(tmp_path):
    """torchrun --nnodes 2 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:PORT: ranks from the rendezvous."""
    runs, params = tmp_path / "runs", tmp_path / "params"
    runs.mkdir()
    params.mkdir()
    for finished in launch.two_nodes("train_ppo.py", str(runs), str(params), limit=GUARD):
        launch.check(finished)
    rank0, rank1 = load(params / "rank0.pt"), load(params / "rank1.pt")
    assert rank0["timestep."].item() == 64
    assert_bitwise_equal(rank0, rank1)


def test_a_two_rank_run_resumes_from_rank_0s_checkpoint_with_equal_parameters(tmp_path):
    """Resumed on 2 ranks (equal parameters on both) and on 1 process."""
    runs, params = tmp_path / "runs", tmp_path / "params"
    runs.mkdir()
    params.mkdir()
    launch.check(launch.torchrun("train_ppo.py", str(runs), str(params), "--timesteps", "32", limit=GUARD))
    checkpoint = runs / "run_rank0" / "checkpoints" / "agent_32.pt"
    assert checkpoint.is_file()
    saved = load(params / "rank0.pt")
    resumed_runs = tmp_path / "resumed"
    resumed_runs.mkdir()
    arguments = (str(resumed_runs), str(params), "--timesteps", "64", "--resume", str(checkpoint))
    launch.check(launch.torchrun("train_ppo.py", *arguments, limit=GUARD))
    rank0, rank1 = load(params / "rank0.pt"), load(params / "rank1.pt")
    assert rank0["timestep."].item() == 64
    assert_bitwise_equal(rank0, rank1)
    assert not torch.equal(rank0["policy.net.0.weight."], saved["policy.net.0.weight."])  # it trained on
    assert (resumed_runs / "run_rank0" / "checkpoints" / "agent_64.pt").is_file()
    # and in one process (no torchrun)
    alone = tmp_path / "alone"
    alone.mkdir()
    arguments = (str(alone), str(alone), "--timesteps", "48", "--resume", str(checkpoint))
    launch.check(launch.single("train_ppo.py", *arguments, limit=GUARD))
    assert load(alone / "rank0.pt")["timestep."].item() == 48


def test_the_parallel_trainer_under_torchrun_keeps_each_agent_equal_across_ranks(tmp_path):
    """Two agents, one env: under torchrun the ParallelTrainer runs them in turn, so their
    all-reduces pair up across ranks and each agent ends bitwise equal on both ranks."""
    runs, params = tmp_path / "runs", tmp_path / "params"
    runs.mkdir()
    params.mkdir()
    launch.check(launch.torchrun("train_ppo.py", str(runs), str(params), "--parallel", limit=GUARD))
    first, second = (load(params / f"rank0_agent{index}.pt") for index in (0, 1))
    assert not torch.equal(first["policy.net.0.weight."], second["policy.net.0.weight."])
    for index in (0, 1):
        assert_bitwise_equal(load(params / f"rank0_agent{index}.pt"), load(params / f"rank1_agent{index}.pt"))


@pytest.mark.gpu
def test_nccl_ranks_agree_bitwise_on_cuda(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (NCCL)")
    runs, params = tmp_path / "runs", tmp_path / "params"
    runs.mkdir()
    params.mkdir()
    nproc = str(min(2, torch.cuda.device_count()))
    finished = launch.torchrun(
        "train_ppo.py", str(runs), str(params), "--device", "cuda", nproc=int(nproc), limit=120
    )
    launch.check(finished)
    if nproc == "2":
        assert_bitwise_equal(load(params / "rank0.pt"), load(params / "rank1.pt"))
    assert sorted(path.name for path in runs.iterdir()) == ["run_rank0"]


def test_the_command_line_under_torchrun_writes_one_run_directory(tmp_path):
    """``torchrun --nproc_per_node 2 -m rlblocks train --algo ppo``: rank 0's directory, one summary."""
    command = [*launch.TORCHRUN, "--standalone", "--nproc_per_node=2", "-m", "rlblocks", "train"]
    command += ["--algo", "ppo", "--timesteps", "128", "--run-dir", str(tmp_path / "run"), "--no-progress"]
    started = launch.time.monotonic()
    finished = launch.wait(launch.start(command), GUARD, started)
    launch.check(finished)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]
    written = sorted(path.name for path in (tmp_path / "run").iterdir())
    assert "config.yaml" in written
    assert sum(name.startswith("events.out.tfevents") for name in written) == 1
    assert finished.output.count("rlblocks train: done") == 1


def test_evaluation_and_a_stop_on_one_rank_stop_every_rank_at_the_same_step(tmp_path):
    import json

    launch.check(launch.torchrun("early_stop.py", str(tmp_path), limit=GUARD))
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [result["timestep"] for result in ranks] == [20, 20]
    assert ranks[0]["stop_reason"] == "a callback on another torchrun rank asked to stop"
    assert ranks[1]["stop_reason"] == "StopOnRankOne.on_step returned True"
    assert ranks[0]["means"] == ranks[1]["means"] and len(ranks[0]["means"]) == 2  # at 8 and 16
