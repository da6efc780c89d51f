"""What the CPU can do, and the llama.cpp settings that keep the embedded model alive on it.

llama.cpp's CPU backend routes matrix products of repacked weights through "extra buffer
types". On Intel CPUs with AMX (Sapphire Rapids and later: most current cloud instances),
the AMX one crashes the process with a general protection fault in
`ggml_backend_amx_mul_mat` when llama-cpp-python was compiled with native flags (its
default). Loading the model without extra buffer types avoids that path; it costs some
speed on CPUs where repacking helps (`python benchmarks/llama_cpu.py` measures it), so it
is switched off only where AMX is present, unless the user decides
(`LlamaCppCompletionLLM(extra_buffer_types=...)` or the environment variable
`DISTILABEL_SELFINSTRUCT_EXTRA_BUFFER_TYPES=0|1`).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["EXTRA_BUFFER_TYPES_ENV", "cpu_flags", "has_amx", "use_extra_buffer_types"]

EXTRA_BUFFER_TYPES_ENV = "DISTILABEL_SELFINSTRUCT_EXTRA_BUFFER_TYPES"


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags from `/proc/cpuinfo` text (read from the machine when
    `None`); empty where there is no such file (macOS, Windows).

    Examples:
        >>> sorted(cpu_flags("processor : 0\\nflags : fpu avx2 amx_tile amx_int8\\n"))
        ['amx_int8', 'amx_tile', 'avx2', 'fpu']
        >>> sorted(cpu_flags("processor : 0\\nFeatures : fp asimd sve\\n"))
        ['asimd', 'fp', 'sve']
    """
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        try:
            cpuinfo = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() in ("flags", "features"):  # x86 / ARM
            return frozenset(value.split())
    return frozenset()


def has_amx(flags: frozenset[str] | None = None, machine: str | None = None) -> bool:
    """Whether an x86-64 CPU advertises Intel AMX (`amx_tile`, `amx_int8`, `amx_bf16`...).

    Examples:
        >>> has_amx(frozenset({"avx512f", "amx_tile", "amx_int8"}), machine="x86_64")
        True
        >>> has_amx(frozenset({"avx2", "fma"}), machine="x86_64")
        False
    """
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64"):
        return False
    flags = cpu_flags() if flags is None else flags
    return any(flag.startswith("amx") for flag in flags)


def use_extra_buffer_types(
    requested: bool | None = None,
    flags: frozenset[str] | None = None,
    machine: str | None = None,
) -> bool:
    """Whether llama.cpp should load the model with extra buffer types: `requested` when
    given, else the environment variable, else everywhere but on AMX CPUs.

    Examples:
        >>> use_extra_buffer_types(flags=frozenset({"amx_tile"}), machine="x86_64")
        False
        >>> use_extra_buffer_types(True, flags=frozenset({"amx_tile"}), machine="x86_64")
        True
        >>> use_extra_buffer_types(flags=frozenset({"avx2"}), machine="x86_64")
        True
    """
    if requested is not None:
        return requested
    setting = os.environ.get(EXTRA_BUFFER_TYPES_ENV, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    return not has_amx(flags, machine)
