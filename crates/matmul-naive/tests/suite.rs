//! The shared test matrix, applied to both loop orders and the reassociated ijk.

matmul_core::backend_test_suite!(naive_ijk, &matmul_naive::NaiveIjk);
matmul_core::backend_test_suite!(naive_ikj, &matmul_naive::NaiveIkj);
matmul_core::backend_test_suite!(naive_ijk_reassoc, &matmul_naive::NaiveIjkReassoc);
