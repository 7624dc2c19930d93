// Step 3: 2-D register tiles. A block of (BM/TM) x (BN/TN) threads computes a BM x BN
// tile of C, each thread a TM x TN sub-tile held in registers. For each k in the shared
// slice a thread reads TM elements of A and TN of B from shared memory and does TM * TN
// FMAs with them: TM*TN / (TM+TN) FMAs per shared load (4 for 8 x 8) instead of 1.
// A is stored transposed in shared memory (As[p][i]), so that both operands are read as
// 16-byte vectors along the register tile. Global loads are 16-byte vectors when the rows
// are 16-byte aligned (k, resp. n, a multiple of VEC), else guarded element loads.
//
// Tile parameters: BM, BN, BK (block tile), TM, TN (thread tile); threads = (BM/TM)*(BN/TN).
// Needs BK, TM, TN multiples of VEC.

#define NT ((BM / TM) * (BN / TN))

extern "C" __global__ void __launch_bounds__(NT)
matmul_regtile(int m, int n, int k, T alpha, const T* __restrict__ A, const T* __restrict__ B, T beta, T* __restrict__ C) {
    __shared__ __align__(16) T As[BK][BM];
    __shared__ __align__(16) T Bs[BK][BN];
    const int t = threadIdx.x;
    const int tr = t / (BN / TN), tc = t % (BN / TN);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    // Uniform over the launch: can a 16-byte vector be loaded from a row of A / of B?
    const bool vec_a = (k % VEC) == 0;
    const bool vec_b = (n % VEC) == 0;

    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0;

    for (int p0 = 0; p0 < k; p0 += BK) {
        // A tile (BM x BK) into As[p][i], transposed. With k a multiple of VEC a vector
        // of VEC consecutive p is either wholly inside the matrix or wholly outside.
        for (int idx = t; idx < BM * BK / VEC; idx += NT) {
            int i = idx / (BK / VEC), pc = (idx % (BK / VEC)) * VEC;
            int gr = row0 + i, gp = p0 + pc;
            vec_t v;
            if (vec_a) {
                if (gr < m && gp < k) {
                    v = *(const vec_t*)(A + (size_t)gr * k + gp);
                } else {
#pragma unroll
                    for (int e = 0; e < VEC; ++e) v.v[e] = 0;
                }
            } else {
#pragma unroll
                for (int e = 0; e < VEC; ++e) v.v[e] = (gr < m && gp + e < k) ? A[(size_t)gr * k + gp + e] : (T)0;
            }
#pragma unroll
            for (int e = 0; e < VEC; ++e) As[pc + e][i] = v.v[e];
        }
        // B tile (BK x BN) into Bs[p][j], as stored.
        for (int idx = t; idx < BK * BN / VEC; idx += NT) {
            int p = idx / (BN / VEC), jc = (idx % (BN / VEC)) * VEC;
            int gp = p0 + p, gc = col0 + jc;
            vec_t v;
            if (vec_b) {
                if (gp < k && gc < n) {
                    v = *(const vec_t*)(B + (size_t)gp * n + gc);
                } else {
#pragma unroll
                    for (int e = 0; e < VEC; ++e) v.v[e] = 0;
                }
            } else {
#pragma unroll
                for (int e = 0; e < VEC; ++e) v.v[e] = (gp < k && gc + e < n) ? B[(size_t)gp * n + gc + e] : (T)0;
            }
            *(vec_t*)&Bs[p][jc] = v;
        }
        __syncthreads();

#pragma unroll
        for (int p = 0; p < BK; ++p) {
            T ra[TM], rb[TN];
#pragma unroll
            for (int i = 0; i < TM; i += VEC) {
                vec_t v = *(const vec_t*)&As[p][tr * TM + i];
#pragma unroll
                for (int e = 0; e < VEC; ++e) ra[i + e] = v.v[e];
            }
#pragma unroll
            for (int j = 0; j < TN; j += VEC) {
                vec_t v = *(const vec_t*)&Bs[p][tc * TN + j];
#pragma unroll
                for (int e = 0; e < VEC; ++e) rb[j + e] = v.v[e];
            }
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += ra[i] * rb[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        int gr = row0 + tr * TM + i;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            int gc = col0 + tc * TN + j;
            if (gr < m && gc < n) store_c(C, n, gr, gc, alpha, acc[i][j], beta);
        }
    }
}
