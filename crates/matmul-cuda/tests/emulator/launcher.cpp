// The emulated launch loop, appended after `cuda_emu.h` and a kernel's NVRTC source, with
// `MATMUL_ENTRY` defined as the kernel's entry point. It reads launches from stdin and
// answers each with C, so one process serves a whole test case list:
//
//   request: u32 grid x, grid y, block x, block y; i32 m, n, k; T alpha, beta;
//            A (m*k), B (k*n), C (m*n), row-major       (a grid x of 0 ends the loop)
//   reply:   C (m*n)
//
// argv[1] is a watchdog in seconds per launch: a kernel whose threads never meet at a
// barrier (a lane skipping a warp-wide instruction, a __syncthreads some threads miss)
// is killed by SIGALRM instead of hanging the test.

#include <unistd.h>

namespace emu {

// A cudaMalloc'd buffer: exactly `len` elements (so one past the end is out of bounds for
// AddressSanitizer), 256-byte aligned.
struct DeviceBuffer {
    T* ptr = nullptr;
    explicit DeviceBuffer(std::size_t len) {
        void* p = nullptr;
        if (posix_memalign(&p, 256, len * sizeof(T)) != 0) fault("out of host memory");
        ptr = static_cast<T*>(p);
    }
    ~DeviceBuffer() { std::free(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

void read_exact(void* dst, std::size_t bytes) {
    if (bytes > 0 && std::fread(dst, 1, bytes, stdin) != bytes) fault("truncated request on stdin");
}

void launch(dim3 grid, dim3 block, int m, int n, int k, T alpha, const T* A, const T* B, T beta, T* C) {
    grid_dim = grid;
    block_dim = block;
    const unsigned threads = block.x * block.y;
    if (threads % 32 != 0) fault("block size is not a whole number of warps");
    std::barrier<> sync(threads);
    std::barrier<> block_done(threads);
    std::unique_ptr<Warp[]> warp_scratch(new Warp[threads / 32]);
    block_barrier = &sync;
    warps = warp_scratch.get();
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            thread_idx = dim3{t % block.x, t / block.x, 1};
            for (unsigned by = 0; by < grid.y; ++by) {
                for (unsigned bx = 0; bx < grid.x; ++bx) {
                    block_idx = dim3{bx, by, 1};
                    MATMUL_ENTRY(m, n, k, alpha, A, B, beta, C);
                    if (!in_flight.empty()) fault("a cp.async was never waited for");
                    block_done.arrive_and_wait();
                }
            }
        });
    }
    for (std::thread& t : pool) t.join();
    block_barrier = nullptr;
    warps = nullptr;
}

}  // namespace emu

int main(int argc, char** argv) {
    const unsigned watchdog = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 60;
    for (;;) {
        std::uint32_t geometry[4];
        if (std::fread(geometry, sizeof geometry, 1, stdin) != 1) emu::fault("no request on stdin");
        if (geometry[0] == 0) return 0;
        std::int32_t dims[3];
        T scale[2];
        emu::read_exact(dims, sizeof dims);
        emu::read_exact(scale, sizeof scale);
        const std::size_t m = dims[0], n = dims[1], k = dims[2];
        emu::DeviceBuffer a(m * k), b(k * n), c(m * n);
        emu::read_exact(a.ptr, m * k * sizeof(T));
        emu::read_exact(b.ptr, k * n * sizeof(T));
        emu::read_exact(c.ptr, m * n * sizeof(T));
        alarm(watchdog);
        emu::launch(dim3{geometry[0], geometry[1], 1}, dim3{geometry[2], geometry[3], 1}, dims[0], dims[1], dims[2],
                    scale[0], a.ptr, b.ptr, scale[1], c.ptr);
        alarm(0);
        if (std::fwrite(c.ptr, sizeof(T), m * n, stdout) != m * n) emu::fault("cannot write the reply");
        std::fflush(stdout);
    }
}
