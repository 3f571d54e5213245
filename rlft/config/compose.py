"""Compose ``python -m rlft.train``'s config outside a Hydra app (evaluate, compare, tests), and the
command-line fix-ups every rlft CLI shares."""

from __future__ import annotations

from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.config.options import check_project_dir, project_config_dir


def _choices(value: Any) -> list[Any]:
    return list(value.list) if hasattr(value, "list") else [value]


def normalize_overrides(argv: Sequence[str]) -> list[str]:
    """The short forms every rlft command accepts, read with Hydra's own override grammar (so
    quoting, ``+``/``~`` and sweeps ``a,b`` are understood); anything else passes unchanged:

    - ``stage=3`` -> ``stage='3'``: Hydra refuses a number as a group choice; stages are numbered;
    - ``champion=best_stop`` -> ``champion.name=best_stop``: registered champions live in the
      registry, not in ``conf/champion/`` (options that do exist there stay group choices);
    - ``distill=DIR`` -> ``distill.traces=DIR``;
    - ``stage=all`` without ``curriculum=...`` adds ``curriculum=<env>``, the env's own curriculum
      (the option named like the env, built in or the project's), when there is one (Hydra cannot
      switch one group from another group's option). Not under ``experiment=...``, which may choose
      the env or the curriculum itself: validation then names the curriculum to pass.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from rlft.config.options import GROUPS, has_option

    parser = OverridesParser.create()
    parsed = {}
    for i, arg in enumerate(argv):
        if arg.startswith("-") or "=" not in arg:
            continue
        try:
            parsed[i] = parser.parse_override(arg)
        except Exception:  # noqa: BLE001  (Hydra reports malformed overrides itself)
            continue
    chosen = {o.key_or_group: o for o in parsed.values() if o.package is None and not o.is_delete()}
    fixed = list(argv)
    for i, override in parsed.items():
        key, text = override.key_or_group, argv[i].split("=", 1)[1]
        prefix = override.get_key_element()[: -len(key)]
        values = _choices(override.value())
        if key in GROUPS and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            fixed[i] = f"{prefix}{key}=" + ",".join(f"'{v}'" for v in values)
        elif key == "champion" and not all(isinstance(v, str) and has_option("champion", v) for v in values):
            fixed[i] = f"champion.name={text}"
        elif key == "distill":
            fixed[i] = f"distill.traces={text}"
    stage = chosen.get("stage")
    if stage is not None and _choices(stage.value()) == ["all"] and not {"curriculum", "experiment"} & set(chosen):
        env = chosen.get("env")
        env_name = str(env.value()) if env is not None and not env.is_sweep_override() else "curve_trace"
        if has_option("curriculum", env_name):  # right after it: Hydra's argv takes overrides in one run
            at = next(i for i, o in parsed.items() if o is stage) + 1
            fixed.insert(at, f"curriculum={env_name}")
    return fixed


def compose_config(overrides: Sequence[str] = (), with_hydra: bool = False) -> DictConfig:
    """The config ``rlft train <overrides>`` would run with (the ``hydra`` node only if asked)."""
    from hydra import compose, initialize_config_module

    from rlft.config.resolvers import register_resolvers
    from rlft.config.schema import register_configs

    register_configs()
    register_resolvers()
    check_project_dir(project_config_dir())
    with initialize_config_module(config_module="rlft.conf", version_base="1.3"):
        cfg = compose(
            config_name="config", overrides=normalize_overrides(list(overrides)), return_hydra_config=with_hydra
        )
    if not with_hydra:
        cfg = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])
    OmegaConf.set_struct(cfg, True)
    return cfg
