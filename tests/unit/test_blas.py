"""bp_tui.core.blas: reading and setting NumPy's BLAS threads (trainer processes use one).

``core.blas`` sets threads on OpenBLAS (what NumPy's wheels ship) and promises to leave
any other BLAS alone (MKL, Accelerate: ``threads()`` None, ``set_threads`` False). The
OpenBLAS tests skip, with the library named, on such a build; the promise itself is
tested everywhere, with the OpenBLAS lookup made to find nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from bp_tui.core import blas


@pytest.fixture
def restore_threads():
    before = blas.threads()
    if before is None:
        pytest.skip(f"NumPy's BLAS is {blas.info()['library']!r}, not an OpenBLAS: left alone")
    yield before
    blas.set_threads(before)


def test_set_threads_is_read_back_and_products_stay_exact(restore_threads) -> None:
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((300, 200)), rng.standard_normal((200, 100))
    assert blas.set_threads(1)
    assert blas.threads() == 1
    one = A @ B
    assert blas.set_threads(2)
    assert blas.threads() == 2
    # same product whatever the thread count, against an independent einsum
    np.testing.assert_allclose(one, np.einsum("ik,kj->ij", A, B), rtol=1e-12, atol=1e-12)


def test_small_network_gets_one_thread_big_one_keeps_its_own(restore_threads) -> None:
    blas.set_threads(2)
    assert not blas.limit_for_network([784, 1024, 1024, 10])  # 1.8M weights
    assert blas.threads() == 2
    assert blas.limit_for_network([2, 64, 64, 64, 64, 64, 1])  # every built-in is this small
    assert blas.threads() == 1


def test_info_names_the_kernel(restore_threads) -> None:
    info = blas.info()
    assert info["api"] == "openblas" and info["kernel"] not in ("", "?")


def test_another_blas_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """On MKL or Accelerate there is no OpenBLAS to find: nothing is set, nothing fails."""
    monkeypatch.setattr(blas, "_openblas", lambda: None)
    assert blas.threads() is None
    assert blas.set_threads(1) is False
    assert blas.limit_for_network([2, 64, 64, 1]) is False
    with blas.limited_for_network([2, 64, 64, 1]) as inside:
        assert inside is None


def test_limited_for_network_restores_the_count_after_the_block(restore_threads) -> None:
    blas.set_threads(2)
    with blas.limited_for_network([2, 64, 64, 1]) as inside:
        assert inside == blas.threads() == 1
    assert blas.threads() == 2
    with blas.limited_for_network([784, 1024, 1024, 10]) as inside:
        assert inside == 2  # a big network keeps its threads
