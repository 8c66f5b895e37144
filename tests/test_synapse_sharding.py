"""spike_matmul under jit with operands sharded over two (fake CPU) devices,
over the batch and over n_out: the values and the weight gradient equal the
unsharded ones. (The custom calls are not partitioned: each device runs the
whole product.)"""

import json

from helpers.isolated import run_python

PROGRAM = """
import json
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import spikegrad
from spikegrad.synapse import spike_matmul

mesh = jax.make_mesh((2,), ("d",))
rng = np.random.default_rng(0)
s = jnp.asarray(np.where(rng.random((8, 64)) < 0.2, 1.0, 0.0), jnp.float32)
w = jnp.asarray(rng.standard_normal((64, 32)), jnp.float32)
f = jax.jit(jax.value_and_grad(lambda w, s: jnp.sum(jnp.sin(spike_matmul(s, w)))))
with spikegrad.lowering("native"):
    want = [np.asarray(a) for a in f(w, s)]
    out = {}
    for name, s_spec, w_spec in [("batch", P("d", None), P()), ("n_out", P(), P(None, "d"))]:
        args = (jax.device_put(w, NamedSharding(mesh, w_spec)), jax.device_put(s, NamedSharding(mesh, s_spec)))
        got = f(*args)
        out[name] = all(np.allclose(a, b, rtol=1e-6, atol=1e-6) for a, b in zip(got, want))
        out[name + "_kernel"] = "spikegrad_spike_matmul" in f.lower(*args).as_text()
print(json.dumps(out))
"""


def test_sharded_operands_give_the_unsharded_values():
    res = run_python(PROGRAM, timeout=300, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out == {"batch": True, "batch_kernel": True, "n_out": True, "n_out_kernel": True}
