"""Traces: chunked recording, DuckDB filtering, behaviour cloning, and the failure cases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from rlft.errors import ConfigError, RunFolderError
from rlft.traces import store
from rlft.traces.filter import Conditions, describe, filter_traces
from rlft.traces.record import run as record
from tests.conftest import REPO, TINY_CURVE, run_cli


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("traces") / "rec"
    record(["oracle", "stage=5", "episodes=12", "chunk=5", f"out={out}"])
    return out


def test_recording_writes_whole_episodes_in_chunks(recorded: Path) -> None:
    manifest = store.read_manifest(recorded)
    assert manifest["complete"] and manifest["episodes"] == 12 and manifest["chunks"] == 3
    assert [len(pq.read_table(p)) for p in store.chunks(recorded, store.EPISODES)] == [5, 5, 2]
    episodes = pq.read_table(recorded / store.EPISODES).to_pydict()
    steps = pq.read_table(recorded / store.STEPS)
    assert sorted(episodes["episode_id"]) == list(range(12)) and sorted(episodes["seed"]) == list(range(12))
    assert steps.num_rows == sum(episodes["length"]) == manifest["steps"]
    obs = store.decode_obs(steps.column("obs").to_pylist()[:3], manifest)
    assert obs.shape == (3, 2, 15, 15) and obs.dtype == np.uint8
    assert {"info_coverage", "info_endpoint_error", "info_stop_label"} <= set(steps.column_names)
    assert any(dict(a).get("stopped_at_end") == 1 for a in episodes["achievements"]), "names count 1 each"
    returns = steps.group_by("episode_id").aggregate([("reward", "sum")]).to_pydict()
    by_id = dict(zip(returns["episode_id"], returns["reward_sum"]))
    for eid, total in zip(episodes["episode_id"], episodes["return"]):
        assert by_id[eid] == pytest.approx(total, abs=1e-3)


def test_filter_statistics_and_kept_episodes(recorded: Path, tmp_path: Path) -> None:
    stats = filter_traces(recorded, None, Conditions(min_success=True), stats_only=True)
    assert stats["all"]["episodes"] == 12 and 0 < stats["kept"]["episodes"] <= 12
    assert stats["kept"]["success_rate"] == 1.0 and not list(tmp_path.iterdir()), "stats only writes nothing"
    conditions = Conditions(
        achievement_types=["coverage_90", "stopped_at_end"], max_length=500, where='"return" > 0 AND length > 5'
    )
    stats = filter_traces(recorded, tmp_path / "kept", conditions)
    kept = pq.read_table(tmp_path / "kept" / store.EPISODES).to_pydict()
    assert len(kept["episode_id"]) == stats["kept"]["episodes"] > 0
    assert all({"coverage_90", "stopped_at_end"} <= set(dict(a)) for a in kept["achievements"])
    steps = pq.read_table(tmp_path / "kept" / store.STEPS)
    assert set(steps.column("episode_id").to_pylist()) == set(kept["episode_id"])
    assert steps.num_rows == sum(kept["length"]) == store.read_manifest(tmp_path / "kept")["steps"]


class _Coin:
    """Random actions from a fixed generator: InfoEnv's place_table count varies by episode."""

    rng = np.random.default_rng(0)

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return self.rng.integers(0, 2, len(observation)), state


def test_counter_achievements_count_only_names_above_zero_and_sql_reaches_each_count(tmp_path: Path) -> None:
    """Crafter-style ``{name: count}`` (most counts 0): an achievement is had when its count is
    above 0, not whenever its name is listed (which kept every episode)."""
    from rlft.traces.record import record as record_episodes
    from tests.envs.info_env import InfoEnv

    out = tmp_path / "counts"
    record_episodes(
        _Coin(), InfoEnv, out, episodes=12, first_seed=0, deterministic=False, model_label="coin",
        stage_label="none", manifest_extra={}, progress=False,
    )  # fmt: skip
    counts = [dict(a) for a in pq.read_table(out / store.EPISODES).to_pydict()["achievements"]]
    assert all(c["eat_cow"] == 0 and c["collect_wood"] == 1 for c in counts)
    with_table = sum(c["place_table"] > 0 for c in counts)
    assert 0 < with_table < 12, "the coin gives both kinds of episode"

    def kept(**conditions) -> int:
        return filter_traces(out, None, Conditions(**conditions), stats_only=True)["kept"]["episodes"]

    assert kept(min_achievements=2) == with_table and kept(min_achievements=3) == 0
    assert kept(achievement_types=["eat_cow"]) == 0 and kept(achievement_types=["collect_wood"]) == 12
    assert kept(where="achievements['place_table'] >= 2") == with_table
    stats = filter_traces(out, None, Conditions(), stats_only=True)
    assert pq.read_table(out / store.EPISODES).to_pydict()["success"] == [None] * 12, "InfoEnv reports no success"
    assert stats["all"]["success_rate"] is None and "success   n/a" in describe(stats), "not a rate of 0"
    assert kept(min_success=True) == 0


def test_a_store_with_achievements_as_names_is_still_read(recorded: Path, tmp_path: Path) -> None:
    """Format 1 stores (achievements a list of names) read as count 1 per name."""
    import shutil

    import pyarrow as pa

    old = tmp_path / "old"
    shutil.copytree(recorded, old)
    manifest = json.loads((old / store.MANIFEST).read_text())
    (old / store.MANIFEST).write_text(json.dumps({**manifest, "format": store.LIST_ACHIEVEMENTS_FORMAT}))
    for chunk in store.chunks(old, store.EPISODES):
        table = pq.read_table(chunk)
        names = pa.array([[k for k, _ in a] for a in table.column("achievements").to_pylist()], pa.list_(pa.string()))
        pq.write_table(table.set_column(table.column_names.index("achievements"), "achievements", names), chunk)
    conditions = Conditions(achievement_types=["stopped_at_end"])
    # the same kept episodes; DuckDB's float sums may differ in the last bit with the row order
    assert filter_traces(old, None, conditions, stats_only=True)["kept"] == pytest.approx(
        filter_traces(recorded, None, conditions, stats_only=True)["kept"], rel=1e-12
    )


@pytest.mark.parametrize(
    "conditions,message",
    [
        (Conditions(min_reward=1e9), "keeps none of the 12 episodes"),
        (Conditions(where="no_such_column > 1"), "not valid SQL"),
    ],
)
def test_filters_that_keep_nothing_or_do_not_parse_are_one_line(
    recorded: Path, tmp_path: Path, conditions, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        filter_traces(recorded, tmp_path / "kept", conditions)
    assert not (tmp_path / "kept").exists() and not list(tmp_path.glob(".kept*"))


def test_a_chunk_with_another_schema_is_refused(recorded: Path, tmp_path: Path) -> None:
    import shutil

    import pyarrow as pa

    mixed = tmp_path / "mixed"
    shutil.copytree(recorded, mixed)
    table = pq.read_table(mixed / store.STEPS / store.chunk_name(2))
    table = table.append_column("info_extra", pa.array(np.zeros(len(table), np.float32)))
    pq.write_table(table, mixed / store.STEPS / store.chunk_name(2))
    with pytest.raises(RunFolderError, match="schema mismatch in steps/chunk-00002.parquet: columns info_extra"):
        filter_traces(mixed, None, Conditions(), stats_only=True)


def test_a_killed_recorder_leaves_complete_readable_chunks(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rlft.traces",
            "record",
            "oracle",
            "stage=1",
            "episodes=100000",
            "chunk=20",
            f"out={out}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(store.chunks(out, store.EPISODES)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not store.read_manifest(out)["complete"]
    for kind in (store.STEPS, store.EPISODES):
        for chunk in store.chunks(out, kind):
            assert pq.read_table(chunk).num_rows > 0  # every visible chunk is whole
    episodes = pq.read_table(out / store.EPISODES, columns=["episode_id"]).num_rows
    stats = filter_traces(out, None, Conditions(), stats_only=True)
    assert stats["all"]["episodes"] == episodes >= 40 and episodes % 20 == 0


def test_distill_clones_the_kept_episodes_into_a_run_folder(recorded: Path, tmp_path: Path) -> None:
    filter_traces(recorded, tmp_path / "kept", Conditions(min_success=True))
    done = run_cli(
        [
            f"distill={tmp_path / 'kept'}",
            "stage=5",
            "distill.epochs=2",
            "distill.critic_epochs=1",
            "distill.validation=0.2",
            "distill.rl_timesteps=128",
            f"paths.output_dir={tmp_path / 'outputs'}",
            *TINY_CURVE,
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "outputs" / "distill").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert run.name.startswith("BC_") and metrics["kind"] == "distill" and metrics["status"] == "completed"
    history = metrics["distill"]["history"]
    assert len(history) == 2 and history[1]["train_nll"] < history[0]["train_nll"], "imitation loss falls"
    assert 0.0 <= history[-1]["held_out_accuracy"] <= 1.0 and metrics["distill"]["critic"]
    assert (run / "final" / "model.zip").is_file()
    assert metrics["total_timesteps"] >= 128, "RL continued after the cloning (distill.rl_timesteps)"


def test_distill_refuses_traces_that_do_not_fit(recorded: Path, tmp_path: Path) -> None:
    for args, message in (
        (["env=curve_trace_decoupled"], "1-part actions"),
        (["env=cartpole"], "observations"),
        ([], "not a trace store"),
    ):
        where = tmp_path if not args == [] else tmp_path / "nowhere"
        done = run_cli(
            [f"distill={recorded if args else where}", f"paths.output_dir={tmp_path / 'out'}", *args], cwd=tmp_path
        )
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()


class _FixedAction:
    """A scripted policy: ``value`` (in every action dimension) for every observation in the batch."""

    def __init__(self, action_space, value: float) -> None:
        self.action = np.full(action_space.shape, value, dtype=action_space.dtype)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        size = len(next(iter(observation.values()))) if isinstance(observation, dict) else len(observation)
        return np.stack([self.action] * size), None


def test_dict_observations_are_stored_per_key_and_continuous_actions_as_floats(tmp_path: Path) -> None:
    from rlft.traces.distill import check_traces_fit
    from rlft.traces.record import record as record_steps
    from tests.user_envs import ContinuousAction, DictObservation

    manifests = {}
    for env_class in (DictObservation, ContinuousAction):
        out = tmp_path / env_class.__name__
        manifests[env_class] = record_steps(
            _FixedAction(env_class.action_space, 0.25), env_class, out, episodes=3, first_seed=0, deterministic=True,
            model_label="scripted", stage_label="none", manifest_extra={}, n_parallel=2, progress=False,
        )  # fmt: skip
    dict_out, continuous_out = tmp_path / "DictObservation", tmp_path / "ContinuousAction"
    manifest = manifests[DictObservation]
    assert manifest["obs_keys"] == {
        "image": {"dtype": "uint8", "shape": [36, 36, 3]},
        "vector": {"dtype": "float32", "shape": [4]},
    }
    steps = pq.read_table(dict_out / store.STEPS)
    assert {"obs_image", "obs_vector"} <= set(steps.column_names) and "obs" not in steps.column_names
    first = DictObservation().reset(seed=0)[0]
    ordered = steps.sort_by([("episode_id", "ascending"), ("t", "ascending")])
    np.testing.assert_array_equal(
        store.decode_obs(ordered.column("obs_image").to_pylist()[:1], manifest, "image")[0], first["image"]
    )
    with pytest.raises(ConfigError, match="Dict observations .*image, vector.*behaviour cloning"):
        check_traces_fit(dict_out, DictObservation.observation_space, DictObservation.action_space)

    assert manifests[ContinuousAction]["action_dtype"] == "float32"
    actions = pq.read_table(continuous_out / store.STEPS).column("action").to_pylist()
    assert actions[0] == [0.25, 0.25] and all(len(a) == 2 for a in actions), "floats, not truncated to ints"
    with pytest.raises(ConfigError, match="continuous actions"):
        check_traces_fit(continuous_out, ContinuousAction.observation_space, ContinuousAction.action_space)


@pytest.mark.slow
def test_distill_starts_the_student_from_an_init_source(recorded: Path, tmp_path: Path) -> None:
    """init= gives the student its starting weights (any model source) and is recorded as its parent."""
    from tests.conftest import tiny_run

    teacher = tiny_run(tmp_path / "teacher")
    done = run_cli(
        [
            f"distill={recorded}",
            "stage=5",
            "distill.epochs=1",
            "distill.critic_epochs=0",
            "distill.rl_timesteps=0",
            f"init={teacher.root}",
            f"paths.output_dir={tmp_path / 'outputs'}",
            *TINY_CURVE,
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "outputs" / "distill").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["init"]["path"] == str(teacher.final_dir / "model.zip") and metrics["init"]["kind"] == "run"
    refused = run_cli(
        [f"distill={recorded}", f"init={teacher.root}", "init_checkpoint=999", f"paths.output_dir={tmp_path / 'no'}"],
        cwd=tmp_path,
    )
    assert refused.returncode == 2 and "init: " in refused.stderr and "no checkpoint at step 999" in refused.stderr
    assert not (tmp_path / "no").exists()
