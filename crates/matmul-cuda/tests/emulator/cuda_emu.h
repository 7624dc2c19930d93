// A CPU emulation of the part of CUDA C that this crate's kernels use, so that the kernels
// themselves (not a model of them) run without a GPU: every CUDA thread of a block is an
// OS thread, __syncthreads is a barrier of the block's threads, a warp-wide instruction
// is a barrier of the warp's 32 threads, and blocks run one after another.
//
// The test `tests/emulated_kernels.rs` compiles, for each kernel configuration, this
// header, then the kernel's NVRTC source unchanged (`KernelConfig::source`), then
// `launcher.cpp`, with g++ under AddressSanitizer + UndefinedBehaviorSanitizer (out-of-
// bounds and misaligned accesses, the faults `compute-sanitizer --tool memcheck` reports)
// and under ThreadSanitizer (data races between the barriers, as `--tool racecheck`).
//
// What is emulated, and how strictly:
// * `cp.async`: the copy is recorded and the destination overwritten with NaN at issue;
//   the data lands at `cp.async.wait_all`. So a kernel that reads a stage before waiting
//   for it, or copies into a stage that another warp still reads, computes NaN. A 16-byte
//   copy needs 16-byte-aligned addresses, a 4- or 8-byte copy its own size, as on the
//   GPU; a copy never waited for is a fault.
// * `mma.sync.aligned.m8n8k4.row.col.f64`: the 32 lanes' operands are gathered after a
//   warp barrier and D = A·B + C is formed with the fragment layouts of the PTX ISA
//   (section "Matrix Fragments for mma.m8n8k4 with .f64"): A(r, c) in lane 4r + c,
//   B(r, c) in lane 4c + r, D(r, 2t + i) in register i of lane 4r + t. A lane that skips
//   the instruction leaves the warp waiting, which the launcher's watchdog reports.
// * Global memory: each matrix is its own allocation of exactly its size, 256-byte
//   aligned like cudaMalloc's, so a stray index is an out-of-bounds access.
// * Shared memory: `__shared__` arrays are static, one copy shared by the block's
//   threads; it keeps the previous block's contents, as a GPU's does.
// * The half types `__nv_bfloat16` and `__half`: 16-bit storage, and the two widening
//   conversions the kernels use, `__bfloat162float` (a 16-bit shift, as on the GPU) and
//   `__half2float` (exact, subnormals, infinities and NaN included; the GPU's is the
//   `cvt.f32.f16` in common.cuh). `emulated_half_conversions_are_exact` checks both on
//   every bit pattern against the `half` crate.
//
// Not emulated: the asm strings themselves (the NVRTC gate compiles them), timing, and
// warp-synchronous execution (none of the kernels relies on it).

#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#define MATMUL_CPU_EMULATION 1

// The emulator's own memory traffic, kept out of the bank model's trace.
#ifdef MATMUL_EMU_BANKS
#define MATMUL_EMU_UNRECORDED __attribute__((no_sanitize_address))
#else
#define MATMUL_EMU_UNRECORDED
#endif

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace emu {

[[noreturn]] inline void fault(const char* what) {
    std::fprintf(stderr, "emulated CUDA fault: %s\n", what);
    std::fflush(stderr);
    std::abort();
}

inline dim3 grid_dim, block_dim;
inline thread_local dim3 thread_idx, block_idx;

// The barrier of __syncthreads, one per launch.
inline std::barrier<>* block_barrier = nullptr;

inline unsigned linear_thread() { return thread_idx.x + thread_idx.y * block_dim.x; }

// The scratch a warp-wide instruction gathers its lanes' operands in.
struct Warp {
    std::barrier<> arrived{32};
    double a[32], b[32], c[32][2];
};
inline Warp* warps = nullptr;

// A cp.async in flight.
struct Copy {
    unsigned char* dst;
    const unsigned char* src;
    int size;      // cp-size: 4, 8 or 16 bytes
    int src_size;  // bytes read from src; the rest of dst is zero-filled
};
inline thread_local std::vector<Copy> in_flight;

// How a shared-memory access is made, for the bank model.
enum class AccessKind : unsigned char { Load, Store, AsyncCopy };
MATMUL_EMU_UNRECORDED inline void record_async_copy(void* smem, int size);

MATMUL_EMU_UNRECORDED inline void cp_async(void* smem, const void* gmem, int size, bool valid) {
    if (reinterpret_cast<std::uintptr_t>(smem) % size != 0) fault("cp.async: shared address not aligned to the copy size");
    if (valid && reinterpret_cast<std::uintptr_t>(gmem) % size != 0)
        fault("cp.async: global address not aligned to the copy size");
    record_async_copy(smem, size);
    auto* dst = static_cast<unsigned char*>(smem);
    // Until the wait, the destination holds no valid data: NaN in every element.
    std::memset(dst, 0xff, size);
    in_flight.push_back(Copy{dst, static_cast<const unsigned char*>(gmem), size, valid ? size : 0});
}

}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#ifdef MATMUL_EMU_BANKS
// The shared-memory bank model (`launcher.cpp`): every __shared__ array lives in one
// section, whose bounds the linker names, and the build (-fsanitize=kernel-address with
// every access through a call) reports each load and store to the hooks below, which keep
// those that fall in it.
#define __shared__ static __attribute__((section("emu_shared")))
// Weak: a kernel without shared memory has no such section, and both are then null.
extern "C" __attribute__((weak)) char __start_emu_shared[], __stop_emu_shared[];

namespace emu {
struct Access {
    std::uintptr_t addr;
    unsigned size;
    AccessKind kind;
};
// The trace of the calling CUDA thread, while one is being recorded.
inline thread_local std::vector<Access>* trace = nullptr;

__attribute__((no_sanitize_address)) inline void record(std::uintptr_t addr, unsigned size, AccessKind kind) {
    auto* p = reinterpret_cast<char*>(addr);
    if (trace != nullptr && p >= __start_emu_shared && p < __stop_emu_shared) trace->push_back(Access{addr, size, kind});
}

inline void record_async_copy(void* smem, int size) {
    record(reinterpret_cast<std::uintptr_t>(smem), static_cast<unsigned>(size), AccessKind::AsyncCopy);
}
}  // namespace emu

#define MATMUL_EMU_HOOK(size)                                                                                        \
    extern "C" __attribute__((no_sanitize_address)) void __asan_load##size##_noabort(std::uintptr_t a) {           \
        emu::record(a, size, emu::AccessKind::Load);                                                                                 \
    }                                                                                                                \
    extern "C" __attribute__((no_sanitize_address)) void __asan_store##size##_noabort(std::uintptr_t a) {          \
        emu::record(a, size, emu::AccessKind::Store);                                                                                  \
    }
MATMUL_EMU_HOOK(1)
MATMUL_EMU_HOOK(2)
MATMUL_EMU_HOOK(4)
MATMUL_EMU_HOOK(8)
MATMUL_EMU_HOOK(16)
extern "C" __attribute__((no_sanitize_address)) void __asan_loadN_noabort(std::uintptr_t a, std::size_t n) {
    emu::record(a, static_cast<unsigned>(n), emu::AccessKind::Load);
}
extern "C" __attribute__((no_sanitize_address)) void __asan_storeN_noabort(std::uintptr_t a, std::size_t n) {
    emu::record(a, static_cast<unsigned>(n), emu::AccessKind::Store);
}
// The rest of what the instrumented code calls: nothing to do without a runtime.
extern "C" __attribute__((no_sanitize_address)) void __asan_handle_no_return() {}
extern "C" __attribute__((no_sanitize_address)) void __asan_before_dynamic_init(const char*) {}
extern "C" __attribute__((no_sanitize_address)) void __asan_after_dynamic_init() {}
#else
#define __shared__ static
namespace emu {
inline void record_async_copy(void*, int) {}
}  // namespace emu
#endif
#define __align__(n) __attribute__((aligned(n)))

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }

inline float __uint_as_float(unsigned bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

struct __attribute__((aligned(2))) __nv_bfloat16 {
    unsigned short bits;
};
struct __attribute__((aligned(2))) __half {
    unsigned short bits;
};
static_assert(sizeof(__nv_bfloat16) == 2 && sizeof(__half) == 2, "the half types are 16 bits");

// bf16 is the top half of a float.
inline float __bfloat162float(__nv_bfloat16 x) { return __uint_as_float(static_cast<unsigned>(x.bits) << 16); }

// f16 (1 sign, 5 exponent, 10 fraction bits, bias 15) -> f32 (bias 127), exactly.
inline float __half2float(__half x) {
    const unsigned sign = static_cast<unsigned>(x.bits & 0x8000u) << 16;
    const unsigned exponent = (x.bits >> 10) & 0x1fu;
    const unsigned fraction = x.bits & 0x3ffu;
    if (exponent == 0x1f) return __uint_as_float(sign | 0x7f800000u | (fraction << 13));  // inf, NaN
    if (exponent != 0) return __uint_as_float(sign | ((exponent + 112u) << 23) | (fraction << 13));
    // Zero or subnormal: fraction * 2^-24, exact in float (at most 10 significant bits).
    const float magnitude = std::ldexp(static_cast<float>(fraction), -24);
    return sign != 0 ? -magnitude : magnitude;
}

inline void cp_async_16(void* smem, const void* gmem, bool valid) { emu::cp_async(smem, gmem, 16, valid); }

template <class E>
inline void cp_async_elem(E* smem, const E* gmem, bool valid) {
    emu::cp_async(smem, gmem, sizeof(E), valid);
}

// Only wait_all is used, so the groups need no bookkeeping.
inline void cp_async_commit() {}

MATMUL_EMU_UNRECORDED inline void cp_async_wait_all() {
    for (const emu::Copy& c : emu::in_flight) {
        if (c.src_size > 0) std::memcpy(c.dst, c.src, c.src_size);
        std::memset(c.dst + c.src_size, 0, c.size - c.src_size);
    }
    emu::in_flight.clear();
}

inline void dmma_8x8x4(double& c0, double& c1, double a, double b) {
    unsigned t = emu::linear_thread();
    emu::Warp& w = emu::warps[t / 32];
    unsigned lane = t % 32;
    w.a[lane] = a;
    w.b[lane] = b;
    w.c[lane][0] = c0;
    w.c[lane][1] = c1;
    w.arrived.arrive_and_wait();
    // This lane's two elements of D: row g, columns 2q and 2q + 1.
    unsigned g = lane / 4, q = lane % 4;
    double d[2];
    for (unsigned i = 0; i < 2; ++i) {
        unsigned col = 2 * q + i;
        double sum = w.c[lane][i];
        for (unsigned p = 0; p < 4; ++p) sum = std::fma(w.a[4 * g + p], w.b[4 * col + p], sum);
        d[i] = sum;
    }
    // Nobody may overwrite the scratch until every lane has read it.
    w.arrived.arrive_and_wait();
    c0 = d[0];
    c1 = d[1];
}
