// Shared by every kernel of this crate. NVRTC compiles one source per (kernel, dtype,
// tile configuration): the Rust side (src/kernels.rs) prepends `#define MATMUL_T float`
// or `double` and the configuration's tile `#define`s, then this file, then the kernel.
//
// The contract every kernel keeps (src/kernels.rs says it once more for the launcher):
// * A is m x k, B is k x n, C is m x n, all row-major and contiguous (lda = k, ldb = n,
//   ldc = n), as the host side packs them or the device-resident API promises;
// * m, n, k >= 1 and alpha != 0 (the host side handles the BLAS special cases first);
// * every global load and store is guarded: any m, n, k is legal, and nothing outside
//   the three matrices is read or written;
// * beta == 0 writes C without reading it (a NaN in C does not survive).

typedef MATMUL_T T;

// Elements in one 16-byte vector: 4 floats or 2 doubles.
#define VEC (16 / (int)sizeof(T))

// The one epilogue: C[i][j] <- alpha * acc + beta * C[i][j], C unread when beta == 0.
__device__ __forceinline__ void store_c(T* __restrict__ C, int n, int row, int col, T alpha, T acc, T beta) {
    T* p = C + (size_t)row * n + col;
    *p = beta == (T)0 ? alpha * acc : alpha * acc + beta * *p;
}

#ifndef MATMUL_CPU_EMULATION
// cp.async (sm_80+): copy global -> shared without a trip through registers. `valid`
// false copies no byte and fills the destination with zeros (the src-size operand is 0),
// which is how an edge tile is padded.
__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem, bool valid) {
    unsigned dst = (unsigned)__cvta_generic_to_shared(smem);
    int bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem), "r"(bytes));
}

// One element (4 or 8 bytes) with the same zero fill: the path for rows that are not
// 16-byte aligned (n or k not a multiple of VEC).
__device__ __forceinline__ void cp_async_elem(T* smem, const T* gmem, bool valid) {
    unsigned dst = (unsigned)__cvta_generic_to_shared(smem);
    int bytes = valid ? (int)sizeof(T) : 0;
    if (sizeof(T) == 8) {
        asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(dst), "l"(gmem), "r"(bytes));
    } else {
        asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(gmem), "r"(bytes));
    }
}
#endif  // the CPU emulation (tests/emulator/cuda_emu.h) brings its own cp.async

// One VEC-wide chunk of a row-major rows x cols matrix M, from (r, c) on, to shared memory
// at `smem` with cp.async, zero-filled where it falls outside M: one 16-byte copy when the
// rows are 16-byte aligned (`aligned`: cols a multiple of VEC, so a chunk starting inside
// a row ends inside it), else element by element.
__device__ __forceinline__ void cp_async_chunk(T* smem, const T* __restrict__ M, int rows, int cols, int r, int c,
                                               bool aligned) {
    if (aligned) {
        bool ok = r < rows && c < cols;
        cp_async_16(smem, ok ? M + (size_t)r * cols + c : M, ok);
    } else {
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
            bool ok = r < rows && c + e < cols;
            cp_async_elem(smem + e, ok ? M + (size_t)r * cols + c + e : M, ok);
        }
    }
}

#ifndef MATMUL_CPU_EMULATION
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::); }
#endif

// A 16-byte vector of T: one 128-bit load or store (LDG.128 / LDS.128).
struct __align__(16) vec_t {
    T v[VEC];
};
