// Step 4: warp tiling, double-buffered shared memory with cp.async, a conflict-free
// (XOR-swizzled) shared layout for A.
//
// * Block tile BM x BN, NT threads = (BM/WM) * (BN/WN) warps; each warp owns a WM x WN
//   warp tile, split into WMITER x WNITER sub-tiles of WSUBM x WSUBN; in each sub-tile a
//   lane owns a TM x TN register tile. A warp's lanes therefore read a few adjacent 16-byte
//   vectors of shared memory per k (broadcasts within the warp), and the warp tile keeps
//   the shared reads per FMA as low as the 8 x 8 thread tile of step 3, with far fewer
//   distinct addresses per warp.
// * Two shared-memory stages: while the block multiplies stage s, the next BK slice of B
//   travels global -> shared with cp.async (no registers, no stall), and the next slice
//   of A is loaded into registers, to be stored transposed into the other stage after the
//   FMAs. One __syncthreads per BK slice.
// * A is stored transposed, As[p][i], so a lane reads TM consecutive i as vectors. One
//   transposing store of a warp writes element e of 32 vectors. Shared memory serves it
//   in phases of 128 bytes: PH = 128 / sizeof(T) lanes (all 32 for f32, a half-warp for
//   f64). The PH lanes of a phase cover PH*VEC/BK consecutive rows i, i.e. PH/BK chunks of
//   VEC, at BK/VEC values of p, one per group of VEC. Without a swizzle every group lands
//   on the same PH/BK chunks, the same banks. So the 16-byte chunks of row p are
//   XOR-swizzled by (p/VEC) * (PH/BK) mod 8: each group of p moves to chunks of its own
//   and every phase hits 32 distinct banks. The reads stay contiguous vectors, since the
//   swizzle is uniform across a warp for a given p. B is copied as stored; its vector
//   reads are broadcasts and need no padding. tests/emulated_kernels.rs counts the
//   wavefronts of every shared access (its bank model) and holds every configuration to
//   conflict-free loads and stores.
//
// Tile parameters: BM, BN, BK, WM, WN, WNITER, TM, TN, NT. The f64 instantiation is the
// same code with 2-element vectors (f64 FMAs are its ceiling: the fast f64 kernel is
// dmma.cu).
//
// Half inputs (MATMUL_HALF: A and B in __nv_bfloat16 or __half, C, alpha, beta and the
// sums in float) are widened on their way into shared memory, which then holds floats
// exactly as in the f32 kernel. Why there and not when reading shared memory into
// registers: each element is converted once per block instead of once for every warp
// that reads it (BN / WN warps read each element of A, BM / WM each of B), the inner loop
// is the f32 kernel's FMAs with no conversion among them, and the shared layout, its
// swizzle and their conflict-free proof (the bank model) are those of f32 unchanged. The
// price: cp.async copies bytes and cannot widen, so B takes A's path (global -> registers
// before the FMAs, widened, stored after them), global loads are 8 bytes (VEC halves),
// and the stages take the f32 kernel's shared memory rather than half of it. The FMAs are
// FP32 FMAs: the kernel's ceiling is the FP32 peak, not the tensor cores'.

#define WMITER ((WM * WN) / (32 * TM * TN * WNITER))
#define WSUBM (WM / WMITER)
#define WSUBN (WN / WNITER)
#define A_LOADS (BM * BK / VEC / NT)
#define B_LOADS (BK * BN / VEC / NT)

// Index of element (p, i) of the transposed, swizzled A stage.
__device__ __forceinline__ int as_index(int p, int i) {
    int chunk = (i / VEC) ^ (((p / VEC) * (128 / (int)sizeof(Acc) / BK)) & 7);
    return p * BM + chunk * VEC + i % VEC;
}

extern "C" __global__ void __launch_bounds__(NT)
matmul_warptile(int m, int n, int k, Acc alpha, const T* __restrict__ A, const T* __restrict__ B, Acc beta, Acc* __restrict__ C) {
    static_assert(NT == (BM / WM) * (BN / WN) * 32, "NT must be one warp per warp tile");
    static_assert(WMITER >= 1 && (WSUBM / TM) * (WSUBN / TN) == 32, "a sub-tile must be 32 lane tiles");
    static_assert((BM * BK / VEC) % NT == 0 && (BK * BN / VEC) % NT == 0, "tiles must split evenly into vectors per thread");
    static_assert(BK % VEC == 0 && TM % VEC == 0 && TN % VEC == 0, "tiles must be whole vectors");
    static_assert((BM / VEC) % 8 == 0, "the swizzle permutes groups of 8 chunks");
    static_assert((128 / sizeof(Acc)) % BK == 0, "the swizzle's step is (128 / sizeof(Acc)) / BK chunks");

    __shared__ __align__(16) Acc As[2][BK * BM];
    __shared__ __align__(16) Acc Bs[2][BK][BN];

    const int t = threadIdx.x;
    const int warp = t / 32, lane = t % 32;
    const int wm = warp / (BN / WN), wn = warp % (BN / WN);
    const int tr = lane / (WSUBN / TN), tc = lane % (WSUBN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const bool vec_a = (k % VEC) == 0;
    const bool vec_b = (n % VEC) == 0;

    // The next slice of A, in registers between its global load and its shared store.
    vec_t a_next[A_LOADS];

    auto load_a = [&](int p0) {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            int idx = t + l * NT;
            int i = idx / (BK / VEC), pc = (idx % (BK / VEC)) * VEC;
            a_next[l] = load_vec(A, m, k, row0 + i, p0 + pc, vec_a);
        }
    };
    auto store_a = [&](int s) {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            int idx = t + l * NT;
            int i = idx / (BK / VEC), pc = (idx % (BK / VEC)) * VEC;
#pragma unroll
            for (int e = 0; e < VEC; ++e) As[s][as_index(pc + e, i)] = a_next[l].v[e];
        }
    };
    // B in two steps, each in its place of the pipeline: copy_b(p0, s) starts the slice
    // from k = p0 towards stage s, land_b(s) has it in stage s (before the barrier).
#ifdef MATMUL_HALF
    // Half inputs: through registers like A (cp.async cannot widen), widened on the load.
    vec_t b_next[B_LOADS];
    auto copy_b = [&](int p0, int) {
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            int idx = t + l * NT;
            int p = idx / (BN / VEC), jc = (idx % (BN / VEC)) * VEC;
            b_next[l] = load_vec(B, k, n, p0 + p, col0 + jc, vec_b);
        }
    };
    auto land_b = [&](int s) {
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            int idx = t + l * NT;
            int p = idx / (BN / VEC), jc = (idx % (BN / VEC)) * VEC;
            *(vec_t*)&Bs[s][p][jc] = b_next[l];
        }
    };
#else
    auto copy_b = [&](int p0, int s) {
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            int idx = t + l * NT;
            int p = idx / (BN / VEC), jc = (idx % (BN / VEC)) * VEC;
            cp_async_chunk(&Bs[s][p][jc], B, k, n, p0 + p, col0 + jc, vec_b);
        }
        cp_async_commit();
    };
    auto land_b = [&](int) { cp_async_wait_all(); };
#endif

    Acc acc[WMITER * TM][WNITER * TN];
#pragma unroll
    for (int i = 0; i < WMITER * TM; ++i)
#pragma unroll
        for (int j = 0; j < WNITER * TN; ++j) acc[i][j] = 0;

    // Prologue: stage 0 holds the first slice.
    load_a(0);
    store_a(0);
    copy_b(0, 0);
    land_b(0);
    __syncthreads();

    const int slices = (k + BK - 1) / BK;
    for (int s = 0; s < slices; ++s) {
        const int cur = s & 1;
        const bool more = s + 1 < slices;
        // Start the next slice's traffic before the FMAs of this one. Stage cur ^ 1 was
        // last read before the __syncthreads that ended the previous iteration.
        if (more) {
            load_a((s + 1) * BK);
            copy_b((s + 1) * BK, cur ^ 1);
        }
#pragma unroll
        for (int p = 0; p < BK; ++p) {
            Acc ra[WMITER * TM], rb[WNITER * TN];
#pragma unroll
            for (int mi = 0; mi < WMITER; ++mi)
#pragma unroll
                for (int i = 0; i < TM; i += VEC) {
                    int row = wm * WM + mi * WSUBM + tr * TM + i;
                    vec_t v = *(const vec_t*)&As[cur][as_index(p, row)];
#pragma unroll
                    for (int e = 0; e < VEC; ++e) ra[mi * TM + i + e] = v.v[e];
                }
#pragma unroll
            for (int ni = 0; ni < WNITER; ++ni)
#pragma unroll
                for (int j = 0; j < TN; j += VEC) {
                    int col = wn * WN + ni * WSUBN + tc * TN + j;
                    vec_t v = *(const vec_t*)&Bs[cur][p][col];
#pragma unroll
                    for (int e = 0; e < VEC; ++e) rb[ni * TN + j + e] = v.v[e];
                }
#pragma unroll
            for (int i = 0; i < WMITER * TM; ++i)
#pragma unroll
                for (int j = 0; j < WNITER * TN; ++j) acc[i][j] += ra[i] * rb[j];
        }
        if (more) {
            store_a(cur ^ 1);
            land_b(cur ^ 1);
        }
        __syncthreads();
    }

#pragma unroll
    for (int mi = 0; mi < WMITER; ++mi)
#pragma unroll
        for (int i = 0; i < TM; ++i) {
            int gr = row0 + wm * WM + mi * WSUBM + tr * TM + i;
#pragma unroll
            for (int ni = 0; ni < WNITER; ++ni)
#pragma unroll
                for (int j = 0; j < TN; ++j) {
                    int gc = col0 + wn * WN + ni * WSUBN + tc * TN + j;
                    if (gr < m && gc < n) store_c(C, n, gr, gc, alpha, acc[mi * TM + i][ni * TN + j], beta);
                }
        }
}
