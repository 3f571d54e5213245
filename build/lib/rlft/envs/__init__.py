"""Built-in environments; importing this package registers them with gymnasium.

``rlft/CurveTrace-v0``: see :mod:`rlft.envs.curve_trace`. Registration is lazy (an entry-point
string) and idempotent, so importing stays cheap.
"""

import gymnasium

CURVE_TRACE_ID = "rlft/CurveTrace-v0"

if CURVE_TRACE_ID not in gymnasium.registry:
    gymnasium.register(id=CURVE_TRACE_ID, entry_point="rlft.envs.curve_trace:CurveTraceEnv")
