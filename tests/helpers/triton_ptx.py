"""Triton kernels of a program lowered for CUDA, compiled for sm_90 here.

The Pallas Triton lowering writes each kernel's Triton IR (MLIR bytecode of
jaxlib's MLIR) into the ``__gpu$xla.gpu.triton`` custom call's backend
config. ``kernels`` takes it out and prints it as text (jaxlib registers the
``tt`` dialect to read it), the form the ``triton`` package parses;
``compile_sm90`` runs ``triton``'s own pipeline to PTX and the ptxas it ships
for the register, spill and stack figures. No GPU is needed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import subprocess
import tempfile
from pathlib import Path

TRITON_TARGET = "__gpu$xla.gpu.triton"


@dataclasses.dataclass(frozen=True)
class Kernel:
    """One Triton custom call: its name, IR text and launch settings."""

    name: str
    ir: str
    num_warps: int
    num_stages: int


@dataclasses.dataclass(frozen=True)
class Compiled:
    """ptxas' figures for one kernel compiled for sm_90a, and its PTX."""

    registers: int
    spill_stores: int
    spill_loads: int
    stack_frame: int
    shared: int
    ptx: str


def _custom_calls(op):
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                if inner.operation.name == "stablehlo.custom_call":
                    yield inner.operation
                yield from _custom_calls(inner.operation)


def _ir_text(bytecode: bytes) -> str:
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir
    from jax._src.lib.triton import dialect as tt_dialect

    context = mlir.make_ir_context()
    tt_dialect.register_dialect(context)
    with context:
        return str(ir.Module.parse(bytecode))


def kernels(lowered) -> list[Kernel]:
    """The Triton kernels of ``lowered`` (a ``jax.stages.Lowered`` for cuda)."""
    from jax._src.lib.mlir import ir

    found = []
    for op in _custom_calls(lowered.compiler_ir("stablehlo").operation):
        if ir.StringAttr(op.attributes["call_target_name"]).value != TRITON_TARGET:
            continue
        config = ir.DictAttr(op.attributes["mhlo.backend_config"])
        found.append(
            Kernel(
                name=ir.StringAttr(config["name"]).value,
                ir=_ir_text(ir.StringAttr(config["ir"]).value_bytes),
                num_warps=ir.IntegerAttr(config["num_warps"]).value,
                num_stages=ir.IntegerAttr(config["num_stages"]).value,
            )
        )
    return found


def _ptxas() -> Path:
    import triton

    return Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "ptxas"


def _field(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    if match is None:
        raise AssertionError(f"ptxas -v printed no {pattern!r}:\n{text}")
    return int(match.group(1))


@functools.cache
def _compile(ir: str, num_warps: int, num_stages: int) -> Compiled:
    from triton.backends.compiler import GPUTarget
    from triton.compiler import compile as triton_compile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "kernel.ttir"
        src.write_text(ir)
        compiled = triton_compile(
            str(src), target=GPUTarget("cuda", 90, 32), options=dict(num_warps=num_warps, num_stages=num_stages)
        )
        ptx = compiled.asm["ptx"]
        ptx_file = Path(tmp) / "kernel.ptx"
        ptx_file.write_text(ptx)
        # The register and spill figures: ptxas' report (Triton reads them
        # from the CUDA driver, which a machine without a GPU lacks).
        report = subprocess.run(
            [str(_ptxas()), "-arch=sm_90a", "-v", str(ptx_file), "-o", str(Path(tmp) / "kernel.cubin")],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
    return Compiled(
        registers=_field(r"Used (\d+) registers", report),
        spill_stores=_field(r"(\d+) bytes spill stores", report),
        spill_loads=_field(r"(\d+) bytes spill loads", report),
        stack_frame=_field(r"(\d+) bytes stack frame", report),
        shared=int(compiled.metadata.shared),
        ptx=ptx,
    )


def compile_sm90(kernel: Kernel) -> Compiled:
    """``kernel`` compiled for sm_90 (cached by IR, warps and stages)."""
    return _compile(kernel.ir, kernel.num_warps, kernel.num_stages)


def ir_hash(kernel: Kernel) -> str:
    return hashlib.sha256(kernel.ir.encode()).hexdigest()[:12]


# ---- the time loop's load order ----------------------------------------------------

_LABEL = re.compile(r"^(\$L__BB\d+_\d+):", re.M)
_BRANCH = re.compile(r"\bbra(?:\.uni)?\s+(\$L__BB\d+_\d+);")
_REG = re.compile(r"%[a-z]+\d+")
#: Instructions that only move, convert or select a value: a loaded row
#: passes through them into the loop carry without being computed on.
_PASS_THROUGH = ("mov", "cvt", "selp")


def outer_loop(ptx: str) -> str:
    """The body of the outermost loop of ``ptx`` (header label to back branch)."""
    labels = {m.group(1): m.start() for m in _LABEL.finditer(ptx)}
    loops = [
        (labels[m.group(1)], m.end())
        for m in _BRANCH.finditer(ptx)
        if m.group(1) in labels and labels[m.group(1)] < m.start()
    ]
    if not loops:
        raise AssertionError("no loop in the PTX")
    start, end = max(loops, key=lambda span: span[1] - span[0])
    return ptx[start:end]


def _instructions(body: str):
    for line in body.splitlines():
        line = line.split("//")[0].strip().rstrip(";")
        if not line or line.endswith(":") or line.startswith((".", "{", "}")):
            continue
        if line.startswith("@"):  # a guard predicate
            line = line.split(None, 1)[1] if " " in line else ""
        parts = line.split(None, 1)
        if len(parts) == 2:
            yield parts[0], parts[1]


def computed_on_loaded_rows(body: str) -> list[str]:
    """Instructions of the loop ``body`` that compute on a value a global
    load of the same iteration gave (through moves, conversions, selects):
    none when every row is loaded one iteration ahead of its use."""
    loaded, found = set(), []
    for opcode, operands in _instructions(body):
        regs = _REG.findall(operands)
        if opcode.startswith("ld.global") and not opcode.startswith("ld.global.nc"):
            # A row (Triton's masked loads; ld.global.nc reads constant tables,
            # such as libdevice's for the sine's range reduction).
            # ld.global{.v2...} {dst, ...}, [address]: the registers before '['.
            loaded.update(_REG.findall(operands.split("[", 1)[0]))
            continue
        if not regs:
            continue
        dst, srcs = regs[0], regs[1:]
        if opcode.startswith("st.global"):
            continue
        if any(r in loaded for r in srcs):
            if opcode.split(".")[0] in _PASS_THROUGH:
                loaded.add(dst)
            else:
                found.append(f"{opcode} {operands}")
    return found
