"""Specification of l2l_helpers.course.machine: the CPU and a fixed speed probe."""

import pytest

from l2l_helpers.course.machine import cpu_info, matmul_gflops, training_step_seconds

ZEN4 = "processor\t: 0\nmodel name\t: AMD EPYC\ncpu family\t: 25\nflags\t\t: fpu avx2 avx512f fma\n"


def test_the_first_processors_model_family_and_vector_extensions_are_read():
    info = cpu_info(ZEN4 + "processor\t: 1\nmodel name\t: other\n")
    assert (info["model"], info["family"], info["flags"]) == ("AMD EPYC", 25, ["avx2", "avx512f"])


def test_a_cpu_without_the_vector_extensions_lists_none():
    assert cpu_info("model name\t: old\ncpu family\t: 6\nflags\t\t: fpu sse2\n")["flags"] == []


def test_missing_fields_are_none_not_an_error():
    info = cpu_info("")
    assert info["model"] is None and info["family"] is None and info["cores"] >= 1


def test_the_matmul_rate_is_a_positive_number():
    assert matmul_gflops(n=128, repeats=2) > 0


@pytest.mark.slow
def test_a_training_step_of_the_quick_network_takes_a_positive_time():
    assert 0 < training_step_seconds("quick", steps=2, warmup=1) < 60
