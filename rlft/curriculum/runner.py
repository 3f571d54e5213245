"""Run a curriculum: stages in order in one run folder, each starting from the previous model.

Layout (beside the usual ``.hydra/``, ``command.txt``, ``environment.json``)::

    metrics.json          kind "curriculum": per-stage summary (``stages``), the global eval history
    tb/                   all stages on one global step axis (see rlft.training.tensorboard)
    plots/curriculum.png  success vs global steps with stage boundaries
    stages/<id>/          a complete single run per stage (.hydra/config.yaml, metrics.json,
                          checkpoints/, best/, final/, plots/)

Resume: stages recorded as finished are skipped (their model is the handoff), the stage in
progress continues from its last checkpoint, the rest follow.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlft.curriculum.handoff import resolve_init
from rlft.curriculum.plan import StagePlan, plan_curriculum, stage_config
from rlft.io import atomic_write_text, read_json
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import COMPLETED, FAILED, NOT_PROMOTED, RUNNING, MetricsFile
from rlft.runs.reading import stage_model
from rlft.training.run import RunOptions, run_training
from rlft.training.tensorboard import TensorBoardTarget

log = logging.getLogger("rlft")

STAGES_DIR = "stages"


def promotion_rule(plan: StagePlan):
    """A stop rule: end the stage once it is promoted (at once if ``early``, else after its budget)."""
    rule = plan.promotion

    def check(entry: dict[str, Any]) -> str | None:
        if rule.met(entry) and (rule.early or entry["timesteps"] >= plan.timesteps):
            return f"promoted: {rule.metric}={entry[rule.metric]:.4g} meets {rule.describe()}"
        return None

    return check


def _stage_summary(plan: StagePlan, stage_metrics: dict[str, Any], start_step: int, promoted: bool) -> dict:
    final = stage_metrics.get("final") or {}
    return {
        "id": plan.id,
        "stage": plan.stage,
        "position": plan.position,
        "status": stage_metrics["status"],
        "promoted": promoted,
        "message": stage_metrics.get("message", ""),
        "steps": stage_metrics["total_timesteps"],
        "start_step": start_step,
        "budget": plan.timesteps,
        "max_budget": plan.max_timesteps,
        "final_success": final.get("success_rate"),
        "final_mean_reward": final.get("mean_reward"),
        "promotion": plan.promotion.describe(),
        "wall_time_s": stage_metrics.get("wall_time_s"),
        "train_time_s": stage_metrics.get("train_time_s"),
        "run_folder": f"{STAGES_DIR}/{plan.id}",
    }


class CurriculumRun:
    """The curriculum's run folder and its ``metrics.json``; one instance per process."""

    def __init__(self, cfg: DictConfig, root: RunFolder, resume: bool) -> None:
        self.cfg = cfg
        self.root = root
        self.plans = plan_curriculum(cfg)
        self.init_record: dict[str, Any] | None = None  # init='s source, kept by the first stage
        if resume and root.metrics_file.is_file():
            self.metrics = MetricsFile.load(root.metrics_file)
            self.metrics.update(status=RUNNING, message="resumed", resumes=self.metrics.data.get("resumes", 0) + 1)
        else:
            self.metrics = MetricsFile.create(
                root.metrics_file,
                kind="curriculum",
                curriculum=cfg.curriculum.name,
                experiment_name=cfg.experiment_name,
                seed=cfg.seed,
                planned_stages=[p.id for p in self.plans],
                stages=[],
            )

    def stage_folder(self, plan: StagePlan) -> RunFolder:
        return RunFolder(self.root.root / STAGES_DIR / plan.id)

    def finished(self) -> dict[str, dict]:
        return {s["id"]: s for s in self.metrics.data["stages"]}

    def run(self) -> dict[str, Any]:
        curriculum = self.cfg.curriculum
        source = resolve_init(self.cfg) if not self.finished() else None  # a resumed curriculum has started
        handoff = source.weights if source else None
        if source:
            self.init_record = source.record()
            self.metrics.update(init=self.init_record)
        offset, index, done = 0, 0, self.finished()
        try:
            for index, plan in enumerate(self.plans):
                summary = done.get(plan.id)
                if summary is None:
                    summary = self._train_stage(plan, index, offset, handoff)
                else:
                    log.info("stage %s already finished (%s): skipped", plan.id, summary["status"])
                offset += summary["steps"]
                handoff = stage_model(self.stage_folder(plan), curriculum.handoff)
                if not summary["promoted"] and curriculum.on_fail == "stop":
                    return self._end(
                        NOT_PROMOTED,
                        f"stage {plan.id} missed its promotion rule "
                        f"({summary['promotion']}; final {summary['final_success']}) after "
                        f"{summary['steps']} steps: curriculum stopped (curriculum.on_fail=continue "
                        "goes on regardless)",
                        offset,
                    )
        except BaseException as exc:
            self.metrics.update(
                status=FAILED,
                message=f"stage {self.plans[index].id}: {type(exc).__name__}: {exc}",
                total_timesteps=offset,
            )
            raise
        missed = [s["id"] for s in self.metrics.data["stages"] if not s["promoted"]]
        message = (
            f"all {len(self.plans)} stages promoted"
            if not missed
            else f"finished; stages not promoted: {', '.join(missed)}"
        )
        return self._end(COMPLETED, message, offset)

    def _train_stage(self, plan: StagePlan, index: int, offset: int, handoff: Path | None) -> dict[str, Any]:
        stage_cfg = stage_config(self.cfg, plan)
        folder = self.stage_folder(plan)
        resuming = folder.metrics_file.is_file()
        if not resuming:
            atomic_write_text(folder.config_file, OmegaConf.to_yaml(stage_cfg))
        log.info(
            "stage %s (%d/%d): %s, budget %d (max %d), promotion %s%s",
            plan.id,
            index + 1,
            len(self.plans),
            "resuming" if resuming else "starting",
            plan.timesteps,
            plan.max_timesteps,
            plan.promotion.describe(),
            f", from {handoff}" if handoff and not resuming else "",
        )
        self.metrics.update(current_stage=plan.id, total_timesteps=offset)
        options = RunOptions(
            resume=resuming,
            init_from=handoff,
            tensorboard=TensorBoardTarget(self.root.tb_dir, offset, plan.id, index),
            stop_rules=(promotion_rule(plan),),
            metrics_fields={
                "kind": "curriculum_stage",
                "stage": plan.id,
                "init_from": str(handoff) if handoff else None,
                **({"init": self.init_record} if index == 0 and self.init_record else {}),
            },
        )
        t0 = time.monotonic()
        stage_metrics = run_training(stage_cfg, folder, options)
        promoted = plan.promotion.met(stage_metrics.get("final") or {})
        summary = _stage_summary(plan, stage_metrics, offset, promoted)
        log.info(
            "stage %s %s after %d steps (%.0f s): %s",
            plan.id,
            "PROMOTED" if promoted else "NOT promoted",
            summary["steps"],
            time.monotonic() - t0,
            summary["message"],
        )
        history = [
            {**e, "timesteps": e["timesteps"] + offset, "stage_timesteps": e["timesteps"], "stage": plan.id}
            for e in stage_metrics["eval"]
        ]
        data = self.metrics.data
        self.metrics.update(
            stages=[*data["stages"], summary], eval=[*data["eval"], *history], total_timesteps=offset + summary["steps"]
        )
        return summary

    def _end(self, status: str, message: str, total: int) -> dict[str, Any]:
        stages = self.metrics.data["stages"]
        last = self.stage_folder(self.plans[0]) if not stages else RunFolder(self.root.root / stages[-1]["run_folder"])
        final = read_json(last.metrics_file).get("final") if last.metrics_file.is_file() else None
        wall = sum(s.get("wall_time_s") or 0.0 for s in stages)
        self.metrics.update(
            status=status,
            message=message,
            total_timesteps=total,
            final=final,
            current_stage=None,
            wall_time_s=round(wall, 2),
            stages_promoted=sum(bool(s["promoted"]) for s in stages),
        )
        from rlft.plots import plot_curriculum

        plot_curriculum(self.metrics.data, self.root.plots_dir / "curriculum.png")
        return self.metrics.data


def run_curriculum(cfg: DictConfig, root: RunFolder, *, resume: bool = False) -> dict[str, Any]:
    return CurriculumRun(cfg, root, resume).run()
