//! The shared test matrix (every shape around the kernels' edges, every layout, strided
//! views padded with NaN, α and β in {0, 1, other}, BLAS's special cases, shape errors),
//! applied to each peer at one thread. `threaded_peers_match_the_reference` in the crate
//! covers their threaded paths.

matmul_core::backend_test_suite!(gemm, &matmul_peers::GemmPeer::new());
matmul_core::backend_test_suite!(matrixmultiply, &matmul_peers::MatrixMultiplyPeer);
matmul_core::backend_test_suite!(faer, &matmul_peers::FaerPeer::new());
