// The emulated launch loop, appended after `cuda_emu.h` and a kernel's NVRTC source, with
// `MATMUL_ENTRY` defined as the kernel's entry point. It reads launches from stdin and
// answers each with C, so one process serves a whole test case list:
//
//   request: u32 grid x, grid y, block x, block y; i32 m, n, k; Acc alpha, beta;
//            A (m*k of T), B (k*n of T), C (m*n of Acc), row-major   (a grid x of 0 ends the loop)
//   reply:   C (m*n of Acc)
//
// T is the kernel's element type, Acc its accumulator (common.cuh): the same type but
// for half inputs, whose C, alpha and beta are float.
//
// argv[1] is a watchdog in seconds per launch: a kernel whose threads never meet at a
// barrier (a lane skipping a warp-wide instruction, a __syncthreads some threads miss)
// is killed by SIGALRM instead of hanging the test.

#include <unistd.h>

namespace emu {

// A cudaMalloc'd buffer: exactly `len` elements of E (so one past the end is out of bounds
// for AddressSanitizer), 256-byte aligned.
template <class E>
struct DeviceBuffer {
    E* ptr = nullptr;
    explicit DeviceBuffer(std::size_t len) {
        void* p = nullptr;
        if (posix_memalign(&p, 256, len * sizeof(E)) != 0) fault("out of host memory");
        ptr = static_cast<E*>(p);
    }
    ~DeviceBuffer() { std::free(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

void read_exact(void* dst, std::size_t bytes) {
    if (bytes > 0 && std::fread(dst, 1, bytes, stdin) != bytes) fault("truncated request on stdin");
}

#ifdef MATMUL_EMU_BANKS
// The bank model: shared memory has 32 banks of 4-byte words. A warp's access is served in
// phases of 128 bytes (one phase for 4-byte accesses, two half-warps for 8-byte ones, four
// quarter-warps for 16-byte ones); in each phase, a bank that must deliver k distinct
// words takes k wavefronts (the same word to several lanes is a broadcast). The ideal is
// one wavefront per phase; anything beyond it is a bank conflict.
struct BankTotals {
    std::size_t instructions = 0, wavefronts = 0, ideal = 0, worst = 1;
};
struct BankReport {
    BankTotals of[3];  // by AccessKind
    std::size_t divergent_warps = 0;
};
inline BankReport bank_report;

// Traces of block (0, 0), one per thread, filled while it runs.
inline std::vector<std::vector<Access>> block_traces;

std::size_t wavefronts(const std::vector<const Access*>& lanes, std::size_t& ideal) {
    unsigned size = lanes[0]->size;
    std::size_t per_phase = size >= 16 ? 8 : size == 8 ? 16 : 32;
    std::size_t total = 0;
    ideal = 0;
    for (std::size_t first = 0; first < lanes.size(); first += per_phase) {
        std::vector<std::vector<std::uintptr_t>> words(32);
        for (std::size_t l = first; l < first + per_phase && l < lanes.size(); ++l) {
            for (std::uintptr_t w = lanes[l]->addr / 4; w < (lanes[l]->addr + lanes[l]->size + 3) / 4; ++w) {
                auto& bank = words[w % 32];
                bool seen = false;
                for (std::uintptr_t x : bank) seen = seen || x == w;
                if (!seen) bank.push_back(w);
            }
        }
        std::size_t phase = 1;
        for (auto& bank : words) phase = bank.size() > phase ? bank.size() : phase;
        total += phase;
        ideal += 1;
    }
    return total;
}

// Matches the i-th shared access of every lane of each warp (the lanes run the same code,
// so the i-th access is the same instruction) and adds up the wavefronts.
void analyse_block(unsigned threads) {
    for (unsigned w = 0; w < threads / 32; ++w) {
        const auto& first = block_traces[w * 32];
        bool same = true;
        for (unsigned l = 1; l < 32; ++l) same = same && block_traces[w * 32 + l].size() == first.size();
        if (!same) {
            bank_report.divergent_warps += 1;
            continue;
        }
        for (std::size_t i = 0; i < first.size(); ++i) {
            std::vector<const Access*> lanes;
            for (unsigned l = 0; l < 32; ++l) lanes.push_back(&block_traces[w * 32 + l][i]);
            std::size_t ideal = 0;
            std::size_t got = wavefronts(lanes, ideal);
            BankTotals& t = bank_report.of[static_cast<int>(first[i].kind)];
            t.instructions += 1;
            t.wavefronts += got;
            t.ideal += ideal;
            std::size_t degree = (got + ideal - 1) / ideal;
            if (degree > t.worst) t.worst = degree;
        }
    }
    block_traces.clear();
}

void print_bank_report() {
    const char* names[3] = {"load", "store", "cp.async"};
    for (int kind = 0; kind < 3; ++kind) {
        const BankTotals& t = bank_report.of[kind];
        std::printf("banks %s instructions=%zu wavefronts=%zu ideal=%zu worst=%zu\n", names[kind], t.instructions,
                    t.wavefronts, t.ideal, t.worst);
    }
    std::printf("banks divergent_warps=%zu\n", bank_report.divergent_warps);
}
#endif

void launch(dim3 grid, dim3 block, int m, int n, int k, Acc alpha, const T* A, const T* B, Acc beta, Acc* C) {
    grid_dim = grid;
    block_dim = block;
    const unsigned threads = block.x * block.y;
    if (threads % 32 != 0) fault("block size is not a whole number of warps");
    std::barrier<> sync(threads);
    std::barrier<> block_done(threads);
    std::unique_ptr<Warp[]> warp_scratch(new Warp[threads / 32]);
    block_barrier = &sync;
    warps = warp_scratch.get();
#ifdef MATMUL_EMU_BANKS
    block_traces.assign(threads, {});
#endif
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            thread_idx = dim3{t % block.x, t / block.x, 1};
            for (unsigned by = 0; by < grid.y; ++by) {
                for (unsigned bx = 0; bx < grid.x; ++bx) {
                    block_idx = dim3{bx, by, 1};
#ifdef MATMUL_EMU_BANKS
                    if (bx == 0 && by == 0) trace = &block_traces[t];
#endif
                    MATMUL_ENTRY(m, n, k, alpha, A, B, beta, C);
#ifdef MATMUL_EMU_BANKS
                    trace = nullptr;
#endif
                    if (!in_flight.empty()) fault("a cp.async was never waited for");
                    block_done.arrive_and_wait();
                }
            }
        });
    }
    for (std::thread& t : pool) t.join();
#ifdef MATMUL_EMU_BANKS
    analyse_block(threads);
#endif
    block_barrier = nullptr;
    warps = nullptr;
}

}  // namespace emu

int main(int argc, char** argv) {
    const unsigned watchdog = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 60;
    for (;;) {
        std::uint32_t geometry[4];
        if (std::fread(geometry, sizeof geometry, 1, stdin) != 1) emu::fault("no request on stdin");
        if (geometry[0] == 0) {
#ifdef MATMUL_EMU_BANKS
            emu::print_bank_report();
#endif
            return 0;
        }
        std::int32_t dims[3];
        Acc scale[2];
        emu::read_exact(dims, sizeof dims);
        emu::read_exact(scale, sizeof scale);
        const std::size_t m = dims[0], n = dims[1], k = dims[2];
        emu::DeviceBuffer<T> a(m * k), b(k * n);
        emu::DeviceBuffer<Acc> c(m * n);
        emu::read_exact(a.ptr, m * k * sizeof(T));
        emu::read_exact(b.ptr, k * n * sizeof(T));
        emu::read_exact(c.ptr, m * n * sizeof(Acc));
        alarm(watchdog);
        emu::launch(dim3{geometry[0], geometry[1], 1}, dim3{geometry[2], geometry[3], 1}, dims[0], dims[1], dims[2],
                    scale[0], a.ptr, b.ptr, scale[1], c.ptr);
        alarm(0);
        if (std::fwrite(c.ptr, sizeof(Acc), m * n, stdout) != m * n) emu::fault("cannot write the reply");
        std::fflush(stdout);
    }
}
