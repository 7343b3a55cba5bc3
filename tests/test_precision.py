"""emorec.training.precision: which machines compute bfloat16 natively, and the warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emorec.training import precision
from emorec.training.precision import native_bfloat16, precision_warning

AVX2_ONLY = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
AVX512_BF16 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: avx512f amx_tile amx_bf16 amx_int8\n"
ARM_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
ARM_OLD = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32\n"


@pytest.fixture
def cpu(tmp_path, monkeypatch):
    """Write a fake /proc/cpuinfo; the machine has no GPU and runs Linux."""
    monkeypatch.setattr(precision, "_has_accelerator", lambda: False)
    monkeypatch.setattr(precision.platform, "system", lambda: "Linux")

    def write(text: str):
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return path

    return write


@pytest.mark.parametrize(
    ("text", "native"),
    [(AVX2_ONLY, False), (AVX512_BF16, True), (SAPPHIRE, True), (ARM_BF16, True), (ARM_OLD, False)],
)
def test_native_bfloat16_reads_the_cpu_flags(cpu, text, native):
    assert native_bfloat16(cpu(text)) is native


def test_unknown_machines_are_not_warned_about(cpu, tmp_path, monkeypatch):
    assert native_bfloat16(tmp_path / "missing") is None
    assert precision_warning("mixed_bfloat16", tmp_path / "missing") is None
    monkeypatch.setattr(precision.platform, "system", lambda: "Darwin")
    assert native_bfloat16(cpu(AVX2_ONLY)) is None


def test_a_gpu_computes_bfloat16(cpu, monkeypatch):
    monkeypatch.setattr(precision, "_has_accelerator", lambda: True)
    assert native_bfloat16(cpu(AVX2_ONLY)) is True
    assert precision_warning("mixed_bfloat16", cpu(AVX2_ONLY)) is None


def test_the_warning_names_the_cause_and_the_fix(cpu):
    message = precision_warning("mixed_bfloat16", cpu(AVX2_ONLY))
    assert "emulated" in message and "precision='float32'" in message
    assert precision_warning("mixed_bfloat16", cpu(AVX512_BF16)) is None
    assert precision_warning("float32", cpu(AVX2_ONLY)) is None
    with pytest.raises(ValueError, match="precision='bf16'"):
        precision_warning("bf16", cpu(AVX2_ONLY))


def test_the_trainer_warns_on_a_cpu_without_bfloat16(monkeypatch, tmp_path):
    from emorec import EmotionDataset, Trainer

    monkeypatch.setattr(precision, "native_bfloat16", lambda cpuinfo=None: False)
    ds = EmotionDataset.from_arrays(np.zeros((8, 48, 48), np.uint8), np.arange(8) % 2, ["a", "b"])
    with pytest.warns(UserWarning, match="emulated"):
        Trainer("seed_cnn", ds, output_dir=tmp_path / "run", precision="mixed_bfloat16")
    monkeypatch.setattr(precision, "native_bfloat16", lambda cpuinfo=None: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        Trainer("seed_cnn", ds, output_dir=tmp_path / "run2", precision="mixed_bfloat16")
