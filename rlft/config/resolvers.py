"""OmegaConf resolvers of ``conf/config.yaml``: the run's default name and where Hydra saves the
composed config. They only compute strings; nothing here creates a file.

``rlft_run_dir`` (``hydra.run.dir``) needs the run kind, so :func:`rlft.workflows.register_resolvers`
registers it with these.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from omegaconf import OmegaConf


def hydra_subdir(*, _root_: Any) -> str:
    """Where Hydra saves the composed config: ``.hydra`` or, on resume, a dated sub-folder so the
    original run's config is never overwritten."""
    if _root_.resume:
        return f".hydra/resume_{_process_start():%Y-%m-%d_%H-%M-%S}"
    return ".hydra"


@lru_cache(maxsize=None)
def _process_start() -> datetime:
    """One time per process: the sub-folder is resolved more than once (Hydra, provenance), and
    two clock readings a second apart would split one resume's records over two folders."""
    return datetime.now()


def default_experiment_name(env: str, stage: str, algo: str, curriculum: str = "none", champion: str = "none") -> str:
    """``curve_trace_stage3_ppo``; the stage part is left out when no stage is chosen; a curriculum
    run is named after its curriculum (``curve_trace_short_ppo``), a fine-tune after its champion
    and stage (``best_stop_stage11``, in ``FT_best_stop_stage11_<time>``)."""
    if str(champion) != "none":
        name = str(champion).replace("@", "-")
        return name if str(stage) in ("none", "all") else f"{name}_stage{stage}"
    if str(curriculum) != "none":
        return f"{curriculum}_{algo}"
    return f"{env}_{algo}" if str(stage) in ("none", "all") else f"{env}_stage{stage}_{algo}"


def register_resolvers() -> None:
    from rlft.config.options import searchpath

    for name, fn in (
        ("rlft_hydra_subdir", hydra_subdir),
        ("rlft_name", default_experiment_name),
        ("rlft_searchpath", searchpath),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
