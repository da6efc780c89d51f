"""CPU detection and the llama.cpp setting it decides, on real `/proc/cpuinfo` excerpts of
the CPUs that matter (this machine has no AMX, so the AMX case is exercised on text)."""

import pytest

from distilabel_selfinstruct import LlamaCppCompletionLLM
from distilabel_selfinstruct.hardware import (
    EXTRA_BUFFER_TYPES_ENV,
    cpu_flags,
    has_amx,
    use_extra_buffer_types,
)

SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu vme de pse tsc msr pae avx2 avx512f avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
"""
EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu vme de pse tsc msr pae avx2 avx512f avx512_bf16 avx512_vnni
"""
GRAVITON = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics sve sve2 bf16 i8mm
"""


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(EXTRA_BUFFER_TYPES_ENV, raising=False)


@pytest.mark.parametrize(
    ("cpuinfo", "machine", "amx"),
    [(SAPPHIRE_RAPIDS, "x86_64", True), (EPYC, "x86_64", False), (GRAVITON, "aarch64", False),
     ("", "x86_64", False)],
)  # fmt: skip
def test_amx_is_found_only_on_intel_cpus_that_advertise_it(cpuinfo, machine, amx):
    flags = cpu_flags(cpuinfo)
    assert has_amx(flags, machine=machine) is amx
    assert use_extra_buffer_types(flags=flags, machine=machine) is not amx


def test_the_user_decides_over_the_detection(monkeypatch):
    amx = cpu_flags(SAPPHIRE_RAPIDS)
    assert use_extra_buffer_types(True, flags=amx, machine="x86_64") is True
    monkeypatch.setenv(EXTRA_BUFFER_TYPES_ENV, "1")
    assert use_extra_buffer_types(flags=amx, machine="x86_64") is True
    monkeypatch.setenv(EXTRA_BUFFER_TYPES_ENV, "0")
    assert use_extra_buffer_types(flags=cpu_flags(EPYC), machine="x86_64") is False


def test_this_machines_flags_are_read():
    assert cpu_flags(), "no CPU flags read from /proc/cpuinfo"


@pytest.mark.e2e
def test_the_embedded_model_runs_without_extra_buffer_types():
    """What an AMX machine gets: the model loads with `use_extra_bufts=False` and generates."""
    llm = LlamaCppCompletionLLM(
        extra_buffer_types=False, generation_kwargs={"max_new_tokens": 8, "temperature": 0}
    )
    llm.load()
    output = llm.generate_outputs(inputs=["The three primary colours are"])
    assert output[0]["generations"][0].strip()
