"""One summary of every job of a sweep: ``summary.csv``, ``summary.md`` and ``summary.png`` in the
sweep folder, plus a TensorBoard HParams entry per finished job.

A job is a subfolder with ``.hydra/overrides.yaml``. Its row: job number, the swept parameters
(overrides whose value differs between jobs) and all its overrides, status (from ``job.json``, else
``metrics.json``), the final metrics (rlft's own and every ``info/`` metric the jobs report), steps,
wall time, run folder and the error of a failed job.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any, Iterable

from omegaconf import OmegaConf

from rlft.config.metrics import is_info_metric
from rlft.errors import RunFolderError
from rlft.io import atomic_path, atomic_write_text, read_json
from rlft.sweep import jobs

OWN_COLUMNS = ("success_rate", "mean_reward", "mean_length")  # besides every info/ metric the jobs report
SUMMARY_FILES = ("summary.csv", "summary.md", "summary.png")


def _job_folders(sweep_dir: Path) -> list[Path]:
    found = [p.parent.parent for p in sweep_dir.glob("*/.hydra/overrides.yaml")]

    def order(folder: Path) -> tuple[int, str]:  # "0", "1", ..., "10", or "<num>_<time>" (continued searches)
        head = re.match(r"\d+", folder.name)
        return (int(head.group()) if head else -1, folder.name)

    return sorted(found, key=order)


def _overrides(folder: Path) -> dict[str, str]:
    listed = OmegaConf.to_container(OmegaConf.load(folder / ".hydra" / "overrides.yaml"))
    assert isinstance(listed, list)  # Hydra writes the overrides as a list of strings
    return dict(item.split("=", 1) if "=" in item else (item, "") for item in listed)


def final_info_metrics(finals: Iterable[dict[str, Any]]) -> list[str]:
    """Every ``info/`` metric any job's final evaluation reports, in the order they first appear."""
    return list(dict.fromkeys(name for final in finals for name in final if is_info_metric(name)))


def job_rows(sweep_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(one row per job, the swept parameter names)."""
    folders = _job_folders(sweep_dir)
    if not folders:
        raise RunFolderError(
            f"{sweep_dir} holds no sweep jobs (no */.hydra/overrides.yaml): pass a multirun "
            "folder such as multirun/<date>/<time>"
        )
    overrides = {folder: _overrides(folder) for folder in folders}
    keys = sorted({k for o in overrides.values() for k in o})
    swept = [k for k in keys if len({o.get(k) for o in overrides.values()}) > 1]
    read = {f: read_json(f / "metrics.json") if (f / "metrics.json").is_file() else {} for f in folders}
    finals = {f: read[f].get("final") or {} for f in folders}
    columns = [*OWN_COLUMNS, *final_info_metrics(finals.values())]
    rows = []
    for folder in folders:
        record = jobs.read(folder) or {}
        metrics, final = read[folder], finals[folder]
        status = record.get("status") or (
            "failed" if metrics.get("status") == "failed" else metrics.get("status") or "unknown"
        )
        if status == jobs.OK:
            status = metrics.get("status", jobs.OK)
        row = {
            "job": folder.name,
            **{k: overrides[folder].get(k) for k in swept},
            "status": status,
            "objective": record.get("objective"),
            **{k: final.get(k) for k in columns},
            "steps": metrics.get("total_timesteps"),
            "seed": record.get("seed", metrics.get("seed")),
            "wall_time_s": metrics.get("wall_time_s", record.get("wall_time_s")),
            "overrides": " ".join(f"{k}={v}" for k, v in overrides[folder].items()),
            "run_folder": str(folder),
            "error": record.get("error") or (metrics.get("message") if metrics.get("status") == "failed" else None),
        }
        rows.append(row)
    return rows, swept


def _failed(row: dict[str, Any]) -> bool:
    return row["status"] in ("failed", "unknown")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")


def write_summary(sweep_dir: Path, *, tensorboard: bool = True) -> dict[str, Any]:
    """Write the three summary files (and HParams entries); returns counts and paths."""
    sweep_dir = Path(sweep_dir)
    rows, swept = job_rows(sweep_dir)
    columns = [c for c in rows[0] if any(r.get(c) is not None for r in rows) or c in ("job", "status")]
    with atomic_path(sweep_dir / "summary.csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    failed = [r for r in rows if _failed(r)]
    shown = [c for c in columns if c not in ("overrides", "run_folder", "error")]
    lines = [
        f"# Sweep {sweep_dir}",
        "",
        f"{len(rows)} jobs: {len(rows) - len(failed)} finished, {len(failed)} failed. "
        f"Swept: {', '.join(swept) or 'nothing (one setting)'}.",
        "",
        "| " + " | ".join(shown) + " |",
        "|" + "---|" * len(shown),
    ]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in shown) + " |" for r in rows]
    if failed:
        lines += ["", "## Failed jobs", ""] + [f"- job {r['job']}: {r['error']} ({r['run_folder']})" for r in failed]
    lines += ["", "Run folders and all overrides: summary.csv.", ""]
    if _plot(rows, swept, sweep_dir / "summary.png"):
        lines.insert(4, "![metric against each swept parameter](summary.png)\n")
    atomic_write_text(sweep_dir / "summary.md", "\n".join(lines))
    if tensorboard:
        _hparams(rows, swept)
    return {"jobs": len(rows), "failed": len(failed), "swept": swept, "folder": str(sweep_dir)}


def _metric(rows: list[dict[str, Any]]) -> str:
    return "success_rate" if any(r.get("success_rate") is not None for r in rows) else "mean_reward"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _plot(rows: list[dict[str, Any]], swept: list[str], path: Path) -> bool:
    done = [r for r in rows if not _failed(r)]
    if not swept or not done:
        return False
    from rlft.plots import plot_metric_against_parameters

    metric = _metric(rows)
    columns = {key: [_number(r[key]) if _number(r[key]) is not None else r[key] for r in done] for key in swept}
    plot_metric_against_parameters(columns, [r.get(metric) for r in done], metric, path)
    return True


def _hparams(rows: list[dict[str, Any]], swept: list[str]) -> None:
    """One HParams entry per finished job (in its ``tb/hparams``), so TensorBoard pointed at the
    sweep folder compares the jobs by their swept parameters."""
    done = [
        r
        for r in rows
        if not _failed(r)
        and (Path(r["run_folder"]) / "tb").is_dir()
        and not (Path(r["run_folder"]) / "tb" / "hparams").exists()
    ]  # once per job, however often summarised
    if not done or not swept:
        return
    from torch.utils.tensorboard import SummaryWriter

    for r in done:
        params = {k: (_number(r[k]) if _number(r[k]) is not None else str(r[k])) for k in swept}
        metrics = {
            f"hparam/{k}": float(r[k])
            for k in ("success_rate", "mean_reward", "objective", *(k for k in r if is_info_metric(k)))
            if _number(r.get(k)) is not None and not math.isnan(float(r[k]))
        }
        if not metrics:
            continue
        writer = SummaryWriter(log_dir=str(Path(r["run_folder"]) / "tb" / "hparams"))
        try:
            writer.add_hparams(params, metrics, run_name=".")
        finally:
            writer.close()


def render_table(sweep_dir: Path) -> str:
    """The summary as printed text (the markdown table)."""
    text = (Path(sweep_dir) / "summary.md").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if line.startswith("|") or line.startswith("- job"))
