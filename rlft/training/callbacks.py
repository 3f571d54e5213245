"""The one SB3 callback of a run: periodic evaluation, best/ model, checkpoints, early stopping,
progress. Evaluation and checkpoints happen at rollout starts, i.e. after an update, so a
checkpoint never holds a half-collected rollout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlft.config.metrics import is_info_metric, metric_value, require_metrics
from rlft.errors import ConfigError
from rlft.evaluation import EvalResult, info_values
from rlft.runs import pointers
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import MetricsFile
from rlft.runs.recovery import BEST_FOLDER
from rlft.training.checkpoints import save_checkpoint, write_model_folder
from rlft.training.early_stop import EarlyStopper
from rlft.training.progress import Progress
from rlft.training.tensorboard import dump_alone


@dataclass
class Schedule:
    """Next timesteps at which to evaluate / checkpoint (0 = never)."""

    eval_every: int
    checkpoint_every: int
    next_eval: int
    next_checkpoint: int

    @staticmethod
    def _next(every: int, after: int) -> int:
        return (after // every + 1) * every if every > 0 else 0

    @classmethod
    def starting_at(cls, eval_every: int, checkpoint_every: int, steps: int) -> "Schedule":
        return cls(eval_every, checkpoint_every, cls._next(eval_every, steps), cls._next(checkpoint_every, steps))


# A stop rule sees each evaluation entry (timesteps + summary) and returns why to stop, or None.
StopRule = Callable[[dict[str, Any]], "str | None"]


def best_metric_name(preference: str, summary: dict[str, Any]) -> str:
    if preference == "auto":
        return "success_rate" if summary.get("success_rate") is not None else "mean_reward"
    return preference


def eval_scalars(summary: dict[str, Any]) -> dict[str, float]:
    """The TensorBoard ``eval/*`` scalars of one evaluation: rlft's own and every ``info/`` metric."""
    values = {"eval/mean_reward": summary["mean_reward"], "eval/mean_ep_length": summary["mean_length"]}
    if summary.get("success_rate") is not None:
        values["eval/success_rate"] = summary["success_rate"]
    values.update({f"eval/{name}": value for name, value in summary.items() if is_info_metric(name)})
    return values


class RunCallback(BaseCallback):
    def __init__(
        self,
        run: RunFolder,
        metrics: MetricsFile,
        evaluate: Callable[[], EvalResult],
        schedule: Schedule,
        early_stopper: EarlyStopper,
        progress: Progress,
        *,
        best_preference: str,
        best_mode: str = "max",
        checkpoint_keep: int,
        save_replay_buffer: bool,
        extra_state: Callable[[], dict[str, Any]],
        stop_rules: Sequence[StopRule] = (),
        required_metrics: dict[str, str] | None = None,
        max_episodes: int | None = None,
        episodes_done: int = 0,
        final_episodes: int | None = None,
    ) -> None:
        super().__init__(verbose=0)
        self.run = run
        self.metrics = metrics
        self.evaluate_fn = evaluate
        self.schedule = schedule
        self.early_stopper = early_stopper
        self.progress = progress
        self.best_preference = best_preference
        self.best_mode = best_mode  # eval.mode: whether best/ keeps the highest or the lowest value
        self.checkpoint_keep = checkpoint_keep
        self.save_replay_buffer = save_replay_buffer
        self.extra_state = extra_state
        self.stop_rules = tuple(stop_rules)
        self.required_metrics = dict(required_metrics or {})  # metric -> the config key naming it
        self.stop_reason: str | None = None
        self.last_eval: dict[str, Any] | None = None  # the latest evaluation entry of this process
        self.final_episodes = final_episodes  # eval.final_episodes: what a final evaluation plays
        self.max_episodes = max_episodes  # hparams.episodes: a budget in training episodes
        self.episodes_done = episodes_done

    @property
    def stopped_at_final_eval(self) -> bool:
        """Stopped by an evaluation that played as many episodes as a final one: the run ends at its
        step and keeps it as final (the same weights on the same seeds)."""
        last = self.last_eval
        return (
            self.stop_reason is not None
            and last is not None
            and self.final_episodes is not None
            and last["episodes"] >= self.final_episodes
        )

    @property
    def episode_budget_spent(self) -> bool:
        return self.max_episodes is not None and self.episodes_done >= self.max_episodes

    # -- SB3 hooks ---------------------------------------------------------------------------
    def _on_rollout_start(self) -> None:
        steps = self.model.num_timesteps
        s = self.schedule
        if s.next_eval and steps >= s.next_eval:
            s.next_eval = Schedule._next(s.eval_every, steps)
            self.evaluate_now()
        if s.next_checkpoint and steps >= s.next_checkpoint:
            s.next_checkpoint = Schedule._next(s.checkpoint_every, steps)
            self.checkpoint_now()

    def _on_rollout_end(self) -> None:
        self.progress.update(self.model.num_timesteps)

    def _on_step(self) -> bool:
        if self.stop_reason is not None:
            # Stopped by the evaluation at this rollout's start: SB3 steps the envs once before it can
            # stop, and stores nothing of that step. When that evaluation is the final one, the count
            # goes back, so the run ends at its step (a shorter one is followed by a final evaluation
            # of its own, at the next step, so that no step has two evaluations).
            if self.stopped_at_final_eval:
                self.model.num_timesteps -= self.training_env.num_envs
            return False
        dones = self.locals.get("dones")
        if dones is not None:  # count_nonzero: a third of ndarray.sum's cost, paid on every step
            self.episodes_done += int(np.count_nonzero(dones))
            self._record_episode_infos(dones)
        return not self.episode_budget_spent

    def _record_episode_infos(self, dones: Any) -> None:
        """``rollout/info/<key>``: the numeric final-info values of the training episodes that just
        ended, averaged until the algorithm's next log dump."""
        infos = self.locals.get("infos") or ()
        for index in np.flatnonzero(dones):
            if index < len(infos):
                for name, values in info_values([infos[index]]).items():
                    self.logger.record_mean(f"rollout/{name}", values[0])

    # -- actions -----------------------------------------------------------------------------
    def evaluate_now(self) -> dict[str, Any]:
        t0 = time.monotonic()
        summary = self.evaluate_fn().summary()
        try:
            require_metrics(summary, self.required_metrics)
        except ConfigError:  # keep the training so far: a resume with the metric's name fixed goes on
            self.checkpoint_now()
            raise
        entry = {"timesteps": self.model.num_timesteps, **summary, "eval_time_s": round(time.monotonic() - t0, 3)}
        self.metrics.add_eval(entry)
        self.last_eval = entry
        self.log_eval(summary)
        self.progress.set_eval(summary)
        self._maybe_save_best(entry)
        reason = self.early_stopper.update(summary)
        for rule in self.stop_rules:
            reason = reason or rule(entry)
        if reason is not None:
            self.stop_reason = reason
        return summary

    def log_eval(self, summary: dict[str, Any]) -> None:
        dump_alone(self.logger, self.model.num_timesteps, eval_scalars(summary))

    def _maybe_save_best(self, entry: dict[str, Any]) -> None:
        name = best_metric_name(self.best_preference, entry)
        value = metric_value(entry, name, "eval.metric")
        best = self.metrics.data.get("best")
        if value is None or (best is not None and best["value"] is not None and not self._better(value, best["value"])):
            return
        record = {"timesteps": entry["timesteps"], "metric": name, "value": value}
        write_model_folder(self.run, self.run.best_dir, self.model, self._env(), {**record, **self.state()})
        self.metrics.update(best=record)

    def _better(self, value: float, best: float) -> bool:
        return value > best if self.best_mode == "max" else value < best

    def _env(self) -> VecEnv:
        env = self.model.get_env()
        assert env is not None  # the model is learning on it
        return env

    def state(self) -> dict[str, Any]:
        """Everything besides the model that resuming needs."""
        return {
            "num_timesteps": self.model.num_timesteps,
            "early_stop": self.early_stopper.state_dict(),
            "stop_reason": self.stop_reason,
            "episodes_done": self.episodes_done,
            "best": self.metrics.data.get("best"),  # resuming here goes back to this best
            BEST_FOLDER: pointers.current(self.run.best_dir),
            **self.extra_state(),
        }

    def checkpoint_now(self) -> None:
        save_checkpoint(self.run, self.model, self._env(), self.state(), self.checkpoint_keep, self.save_replay_buffer)
        self.metrics.update(total_timesteps=self.model.num_timesteps)
