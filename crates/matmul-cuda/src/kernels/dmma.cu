// Step 5 (f64 only): the FP64 tensor cores. mma.sync.aligned.m8n8k4 with f64 operands
// (DMMA, sm_80+) multiplies an 8x4 by a 4x8 tile per warp per instruction, at about twice
// the rate of the FP64 FMA units. This is what cuBLAS dgemm uses on the H200.
//
// * Block tile BM x BN, NT threads = (BM/WM) * (BN/WN) warps, each warp a WM x WN tile of
//   (WM/8) x (WN/8) accumulators of 8 x 8 (two doubles per lane each).
// * Both operands go global -> shared with cp.async, two stages: the next BK slice is in
//   flight while the warps run the DMMAs of this one.
// * Fragments come from shared memory in the instruction's lane layout (PTX ISA,
//   "Matrix Fragments for mma.m8n8k4 with .f64"): lane l holds A[l/4][l%4],
//   B[l%4][l/4], and C[l/4][2*(l%4) + {0,1}]. A 64-bit shared load is served per
//   half-warp; the rows are padded by 4 doubles (row pitch = 8 banks mod 32) so the 16
//   lanes of a half-warp, 4 rows x 4 columns for A and 4 rows x 4 columns for B, fall on
//   32 distinct banks: conflict-free.
//
// Tile parameters: BM, BN, BK, WM, WN, NT.

#define APITCH (BK + 4)
#define BPITCH (BN + 4)
#define MI (WM / 8)
#define NI (WN / 8)
#define A_CHUNKS (BM * BK / VEC)
#define B_CHUNKS (BK * BN / VEC)

#ifndef MATMUL_CPU_EMULATION
__device__ __forceinline__ void dmma_8x8x4(double& c0, double& c1, double a, double b) {
    asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0, %1}, {%2}, {%3}, {%0, %1};\n"
                 : "+d"(c0), "+d"(c1)
                 : "d"(a), "d"(b));
}
#endif  // the CPU emulation brings its own DMMA, built from the PTX ISA's fragment tables

extern "C" __global__ void __launch_bounds__(NT)
matmul_dmma(int m, int n, int k, T alpha, const T* __restrict__ A, const T* __restrict__ B, T beta, T* __restrict__ C) {
    static_assert(sizeof(T) == 8, "DMMA multiplies doubles only");
    static_assert(NT == (BM / WM) * (BN / WN) * 32, "NT must be one warp per warp tile");
    static_assert(WM % 8 == 0 && WN % 8 == 0 && BK % 4 == 0 && BK % VEC == 0, "tiles must be whole DMMA shapes");

    __shared__ __align__(16) T As[2][BM][APITCH];
    __shared__ __align__(16) T Bs[2][BK][BPITCH];

    const int t = threadIdx.x;
    const int warp = t / 32, lane = t % 32;
    const int wm = warp / (BN / WN), wn = warp % (BN / WN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const bool vec_a = (k % VEC) == 0;
    const bool vec_b = (n % VEC) == 0;

    auto copy_slice = [&](int p0, int s) {
        for (int idx = t; idx < A_CHUNKS; idx += NT) {
            int i = idx / (BK / VEC), pc = (idx % (BK / VEC)) * VEC;
            cp_async_chunk(&As[s][i][pc], A, m, k, row0 + i, p0 + pc, vec_a);
        }
        for (int idx = t; idx < B_CHUNKS; idx += NT) {
            int p = idx / (BN / VEC), jc = (idx % (BN / VEC)) * VEC;
            cp_async_chunk(&Bs[s][p][jc], B, k, n, p0 + p, col0 + jc, vec_b);
        }
        cp_async_commit();
    };

    double acc[MI][NI][2];
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < NI; ++j) acc[i][j][0] = acc[i][j][1] = 0.0;

    copy_slice(0, 0);
    cp_async_wait_all();
    __syncthreads();

    const int slices = (k + BK - 1) / BK;
    for (int s = 0; s < slices; ++s) {
        const int cur = s & 1;
        const bool more = s + 1 < slices;
        if (more) copy_slice((s + 1) * BK, cur ^ 1);
#pragma unroll
        for (int kk = 0; kk < BK; kk += 4) {
            double af[MI], bf[NI];
#pragma unroll
            for (int i = 0; i < MI; ++i) af[i] = As[cur][wm * WM + i * 8 + lane / 4][kk + lane % 4];
#pragma unroll
            for (int j = 0; j < NI; ++j) bf[j] = Bs[cur][kk + lane % 4][wn * WN + j * 8 + lane / 4];
#pragma unroll
            for (int i = 0; i < MI; ++i)
#pragma unroll
                for (int j = 0; j < NI; ++j) dmma_8x8x4(acc[i][j][0], acc[i][j][1], af[i], bf[j]);
        }
        if (more) cp_async_wait_all();
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < MI; ++i) {
        int gr = row0 + wm * WM + i * 8 + lane / 4;
#pragma unroll
        for (int j = 0; j < NI; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                int gc = col0 + wn * WN + j * 8 + (lane % 4) * 2 + e;
                if (gr < m && gc < n) store_c(C, n, gr, gc, alpha, acc[i][j][e], beta);
            }
    }
}
