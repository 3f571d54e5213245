"""CurveTrace: trace a faint curve through a noisy image and stop at its end (see CURVE_TRACE.md).

Modules: ``params`` (stage table, validation, curve_config.json), ``generator`` (episodes),
``pool`` (pre-generated episodes), ``core`` (rules shared by both envs), ``env`` (gymnasium env),
``vec_env`` (batched SB3 VecEnv), ``oracle`` (scripted policies), ``render`` (frames, GIFs).
"""

from rlft.envs.curve_trace.env import CurveTraceEnv
from rlft.envs.curve_trace.params import STAGES, CurveParams, stage_params

__all__ = ["STAGES", "CurveParams", "CurveTraceEnv", "stage_params"]
