// Shared by every kernel of this crate. NVRTC compiles one source per (kernel, dtype,
// tile configuration): the Rust side (src/kernels.rs) prepends `#define MATMUL_T float`,
// `double`, `__nv_bfloat16` or `__half` (with `#define MATMUL_HALF 1` for the last two)
// and the configuration's tile `#define`s, then this file, then the kernel.
//
// The contract every kernel keeps (src/kernels.rs says it once more for the launcher):
// * A is m x k, B is k x n, C is m x n, all row-major and contiguous (lda = k, ldb = n,
//   ldc = n), as the host side packs them or the device-resident API promises;
// * A and B are of type T, C, alpha, beta and the arithmetic of type Acc (T itself for
//   float and double; float for half inputs, each element widened exactly on its load);
// * m, n, k >= 1 and alpha != 0 (the host side handles the BLAS special cases first);
// * every global load and store is guarded: any m, n, k is legal, and nothing outside
//   the three matrices is read or written;
// * beta == 0 writes C without reading it (a NaN in C does not survive).

#ifdef MATMUL_HALF
#ifndef MATMUL_CPU_EMULATION
// NVRTC has no built-in cuda_bf16.h or cuda_fp16.h, and the compile gate runs where no
// CUDA toolkit headers are installed: the two storage types, layout-compatible with the
// toolkit's (16 bits, 2-byte aligned), and the only operation the kernels apply to them,
// the exact widening to float. (The CPU emulation, tests/emulator/cuda_emu.h, brings its
// own.)
struct __align__(2) __nv_bfloat16 {
    unsigned short bits;
};
struct __align__(2) __half {
    unsigned short bits;
};
// bf16 is the top half of a float: widening is a 16-bit shift.
__device__ __forceinline__ float __bfloat162float(__nv_bfloat16 x) { return __uint_as_float((unsigned)x.bits << 16); }
// f16 -> f32 is exact (every f16, subnormals included, is a normal f32); no .ftz.
__device__ __forceinline__ float __half2float(__half x) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x.bits));
    return f;
}
#endif
typedef float Acc;
#endif

typedef MATMUL_T T;
#ifndef MATMUL_HALF
typedef T Acc;
#endif

// The exact widening of an element of A or B to the accumulator type (the identity for
// float and double).
__device__ __forceinline__ float to_acc(float x) { return x; }
__device__ __forceinline__ double to_acc(double x) { return x; }
#ifdef MATMUL_HALF
__device__ __forceinline__ float to_acc(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_acc(__half x) { return __half2float(x); }
#endif

// Elements in one 16-byte vector of Acc: 4 floats or 2 doubles. (A kernel reading half
// inputs loads VEC of them at a time: 8 bytes.)
#define VEC (16 / (int)sizeof(Acc))

// The one epilogue: C[i][j] <- alpha * acc + beta * C[i][j], C unread when beta == 0.
__device__ __forceinline__ void store_c(Acc* __restrict__ C, int n, int row, int col, Acc alpha, Acc acc, Acc beta) {
    Acc* p = C + (size_t)row * n + col;
    *p = beta == (Acc)0 ? alpha * acc : alpha * acc + beta * *p;
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

// A 16-byte vector of Acc: one 128-bit load or store (LDG.128 / LDS.128).
struct __align__(16) vec_t {
    Acc v[VEC];
};

// VEC elements of T, as one load: vec_t itself for float and double, 8 bytes of halves.
struct __align__(VEC * sizeof(T)) in_vec_t {
    T v[VEC];
};

// VEC consecutive elements of row r of a row-major rows x cols matrix M, from column c on,
// widened to Acc, zero where they fall outside M: one vector load when the rows are
// vector-aligned (`aligned`: cols a multiple of VEC, so a vector starting inside a row ends
// inside it), else element by element.
__device__ __forceinline__ vec_t load_vec(const T* __restrict__ M, int rows, int cols, int r, int c, bool aligned) {
    vec_t out;
    if (aligned) {
        if (r < rows && c < cols) {
            in_vec_t in = *(const in_vec_t*)(M + (size_t)r * cols + c);
#pragma unroll
            for (int e = 0; e < VEC; ++e) out.v[e] = to_acc(in.v[e]);
        } else {
#pragma unroll
            for (int e = 0; e < VEC; ++e) out.v[e] = (Acc)0;
        }
    } else {
#pragma unroll
        for (int e = 0; e < VEC; ++e) out.v[e] = (r < rows && c + e < cols) ? to_acc(M[(size_t)r * cols + c + e]) : (Acc)0;
    }
    return out;
}
