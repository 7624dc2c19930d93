// Step 2: shared-memory tiles. A block of TILE x TILE threads computes a TILE x TILE tile
// of C; for each slice of TILE columns of A / rows of B, every thread loads one element
// of each into shared memory, and the block then reuses each loaded element TILE times.
// Global traffic drops by a factor of TILE; the inner loop now reads shared memory
// (As[ty][p] is a broadcast within a warp, Bs[p][tx] 32 consecutive words: no bank
// conflicts), one load per FMA, which is this step's limit.
//
// Tile parameters: TILE (block = TILE x TILE threads).

extern "C" __global__ void __launch_bounds__(TILE * TILE)
matmul_tiled(int m, int n, int k, T alpha, const T* __restrict__ A, const T* __restrict__ B, T beta, T* __restrict__ C) {
    __shared__ T As[TILE][TILE];
    __shared__ T Bs[TILE][TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * TILE + ty;
    int col = blockIdx.x * TILE + tx;
    T acc = 0;
    for (int p0 = 0; p0 < k; p0 += TILE) {
        // Out-of-range elements load as zero, so they add nothing to the dot products.
        As[ty][tx] = (row < m && p0 + tx < k) ? A[(size_t)row * k + p0 + tx] : (T)0;
        Bs[ty][tx] = (p0 + ty < k && col < n) ? B[(size_t)(p0 + ty) * n + col] : (T)0;
        __syncthreads();
#pragma unroll
        for (int p = 0; p < TILE; ++p) {
            acc += As[ty][p] * Bs[p][tx];
        }
        __syncthreads();
    }
    if (row < m && col < n) store_c(C, n, row, col, alpha, acc, beta);
}
