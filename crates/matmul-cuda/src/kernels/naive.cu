// Step 1: one thread per element of C. threadIdx.x runs along a row of C, so the 32
// threads of a warp read 32 consecutive elements of a row of B (coalesced) and the same
// element of A (a broadcast). Every operand is re-read from global memory (through L1/L2)
// k times: this is the memory-bound baseline the later steps improve on.
//
// Tile parameters: BS (the block is BS x BS threads, one C tile of BS x BS).

extern "C" __global__ void __launch_bounds__(BS * BS)
matmul_naive(int m, int n, int k, T alpha, const T* __restrict__ A, const T* __restrict__ B, T beta, T* __restrict__ C) {
    int row = blockIdx.y * BS + threadIdx.y;
    int col = blockIdx.x * BS + threadIdx.x;
    if (row >= m || col >= n) return;
    const T* a = A + (size_t)row * k;
    T acc = 0;
    for (int p = 0; p < k; ++p) {
        acc += a[p] * B[(size_t)p * n + col];
    }
    store_c(C, n, row, col, alpha, acc, beta);
}
