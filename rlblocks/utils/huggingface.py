"""`download_model_from_huggingface`: fetch a trained agent's file from the Hugging Face Hub.

The file is downloaded (or found in the local cache) by `huggingface_hub.hf_hub_download`, and its
local path returned; nothing is loaded here. Load it with an agent's or model's `load(path)`, or with
`load_model_from_huggingface`, both with weights-only semantics (`rlblocks.utils.checkpoint`): a file
that would need arbitrary unpickling is refused, never executed.

`huggingface_hub` is optional (the `[huggingface]` extra). Offline use: set `HF_HUB_OFFLINE=1` (or
pass `local_files_only=True`) and the file is taken from the cache (`cache_dir`, else `HF_HOME`).
"""

from __future__ import annotations

from typing import Any

from rlblocks import logger
from rlblocks.utils.checkpoint import safe_load


def download_model_from_huggingface(repo_id: str, filename: str = "agent.pt", **kwargs: Any) -> str:
    """Download `filename` of the Hub repository `repo_id` and return its local path.

    Args:
        repo_id: the repository, "organisation/name" (e.g. "skrl/OmniIsaacGymEnvs-Cartpole-PPO").
        filename: the file in the repository (skrl's default: "agent.pt").
        **kwargs: passed to `huggingface_hub.hf_hub_download` (`revision`, `cache_dir`,
            `local_files_only`, `token`, ...).

    Returns:
        the path of the file in the local cache.

    Raises:
        ImportError: huggingface_hub is not installed.
        ValueError: `repo_id` is not "organisation/name".
    """
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or "" in repo_id.split("/"):
        raise ValueError(
            f"repo_id should be 'organisation/name' (e.g. 'skrl/IsaacGymEnvs-Cartpole-PPO'), got {repo_id!r}."
        )
    try:
        import huggingface_hub
    except ImportError as error:
        raise ImportError(
            "download_model_from_huggingface needs the huggingface_hub package: pip install "
            "'rlblocks[huggingface]' (or pip install huggingface_hub)."
        ) from error
    logger.info(f"Downloading model from Hugging Face Hub: {repo_id}/{filename}")
    return huggingface_hub.hf_hub_download(repo_id=repo_id, filename=filename, **kwargs)


def load_model_from_huggingface(repo_id: str, filename: str = "agent.pt", **kwargs: Any) -> Any:
    """`download_model_from_huggingface`, then the file's content loaded weights-only on the cpu.

    Raises:
        ImportError: huggingface_hub is not installed.
        rlblocks.utils.checkpoint.CheckpointError: the file needs arbitrary unpickling (refused) or
            is not a torch file.
    """
    return safe_load(download_model_from_huggingface(repo_id, filename, **kwargs), map_location="cpu")
