// cuda_cpu_shim.h — run CUDA C kernels on the CPU, one block at a time.
//
// Every CUDA thread of a block is a ucontext fiber on one OS thread; a small
// scheduler runs the fibers until each is waiting at a barrier or has exited,
// then releases
//   * a warp barrier (__shfl_*_sync) when every live lane of that warp waits at it,
//   * the block barrier (__syncthreads) when every live thread of the block waits.
// Anything else is a deadlock and is reported (with the source lines involved).
// Schedule (gpureg_emu_set_schedule): "warp-ahead" (default) runs the warps of a
// block in a pseudo-random order (from a seed), each as far as it can go
// (through its shuffles) before the next starts, so a missing __syncthreads
// between a shared-memory write and another warp's read shows up as a wrong
// result; "pass" runs every thread to its next barrier in thread order.
// Checked and reported as errors (a kernel bug on a real GPU):
//   * a __shfl_*_sync whose mask names a lane that has exited or does not exist,
//     or whose mask leaves out a live lane that nevertheless arrives at the same
//     shuffle (mask must equal the participating set);
//   * lanes of one warp meeting at *different* shuffle call sites;
//   * threads of a block meeting at different __syncthreads call sites;
// and counted as warnings: __syncthreads reached while some threads of the
// block have already exited (works on sm_70+ in practice, UB by the guide).
// __shared__ is `static`: blocks run one after another, so this is exact.
// Arithmetic: compile with -ffp-contract=off (x86-64 SSE: IEEE binary32/64,
// round to nearest even, subnormals kept), as --fmad=false on the device.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#include <ucontext.h>

namespace cudaemu {

struct dim3 { unsigned x = 1, y = 1, z = 1; };

enum State { RUN = 0, WAIT_BLOCK = 1, WAIT_WARP = 2, EXITED = 3 };

struct Fiber {
    ucontext_t ctx;
    State state = RUN;
    int site = 0;       // source line of the barrier it waits at
    unsigned mask = 0;  // shuffle mask it passed
    unsigned shfl_count = 0;
    dim3 tid;
    unsigned linear = 0;
};

struct Stats {
    long long blocks = 0, fiber_switches = 0, syncthreads = 0, warp_syncs = 0;
    long long errors = 0, warnings = 0;
    std::string first_error, first_warning;
};

inline Stats stats;
inline dim3 gridDim_, blockDim_, blockIdx_;
inline dim3 cur_tid_;
inline Fiber* cur_ = nullptr;
inline ucontext_t sched_ctx_;
inline std::vector<Fiber> fibers_;
inline std::vector<char> stacks_;
inline const std::function<void()>* body_ = nullptr;
inline uint64_t slots_[2][1024];
inline unsigned arrived_[2][32];  // lanes released together, per warp and parity
constexpr size_t kStack = 64 * 1024;  // per fiber; the kernels use little

inline void error(const std::string& m) {
    if (stats.errors++ == 0) stats.first_error = m;
}
inline void warning(const std::string& m) {
    if (stats.warnings++ == 0) stats.first_warning = m;
}

inline void fiber_entry() {
    (*body_)();
    cur_->state = EXITED;
    // uc_link returns to the scheduler
}

inline void wait(State s, int site, unsigned mask = 0) {
    cur_->state = s;
    cur_->site = site;
    cur_->mask = mask;
    ++stats.fiber_switches;
    swapcontext(&cur_->ctx, &sched_ctx_);
}

inline void syncthreads(int line) {
    ++stats.syncthreads;
    wait(WAIT_BLOCK, line);
}

inline unsigned warp_size_of(unsigned warp) {
    unsigned n = blockDim_.x * blockDim_.y * blockDim_.z;
    unsigned lo = warp * 32;
    return (n - lo) < 32 ? (n - lo) : 32;
}

// one shuffle: publish v, wait for the warp, read lane src (or own when invalid)
template <typename T>
inline T shuffle(unsigned mask, T v, int kind, int arg, int width, int line) {
    static_assert(sizeof(T) <= 8, "shuffle of > 8 bytes");
    Fiber* me = cur_;
    const unsigned lane = me->linear % 32, warp = me->linear / 32;
    const unsigned parity = me->shfl_count++ & 1u;
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    slots_[parity][me->linear] = bits;
    if (!(mask >> lane & 1u)) {
        char b[160];
        std::snprintf(b, sizeof b, "line %d: lane %u calls __shfl_*_sync with a mask (0x%08x) "
                      "that excludes itself", line, lane, mask);
        error(b);
    }
    wait(WAIT_WARP, line, mask);
    // released: every live lane of the warp is here (checked by the scheduler)
    const unsigned sub = lane % width, base = lane - sub;
    int src;
    switch (kind) {
        case 0: src = (int)base + (arg % width); break;                 // __shfl_sync
        case 1: src = (sub + arg < (unsigned)width) ? (int)(lane + arg) : (int)lane; break;  // down
        case 2: src = (sub >= (unsigned)arg) ? (int)(lane - arg) : (int)lane; break;         // up
        default: src = (int)base + (int)((sub ^ (unsigned)arg) % width); break;              // xor
    }
    const unsigned src_linear = warp * 32 + (unsigned)src;
    const unsigned wsize = warp_size_of(warp);
    T out = v;
    if ((unsigned)src >= wsize || !(arrived_[parity][warp] >> src & 1u) || !(mask >> src & 1u)) {
        char b[200];
        std::snprintf(b, sizeof b, "line %d: lane %u of warp %u (block %u) reads lane %d, "
                      "which is not a live participant (mask 0x%08x)", line, lane, warp,
                      blockIdx_.x, src, mask);
        error(b);
    } else {
        uint64_t sb = slots_[parity][src_linear];
        std::memcpy(&out, &sb, sizeof(T));
    }
    return out;
}

inline unsigned long long seed_ = 0;
inline int schedule_ = 1;  // 1 "warp-ahead" (default), 0 "pass"
inline bool schedule_warp_ahead() { return schedule_ == 1; }

// release warp w's shuffle barrier if every live lane waits at it
inline bool release_warp(unsigned w) {
    const unsigned ws = warp_size_of(w);
    bool any_wait = false, all_wait = true;
    int site = -1; bool same = true;
    unsigned live = 0, arrived = 0, mask = 0;
    for (unsigned l = 0; l < ws; ++l) {
        Fiber& f = fibers_[w * 32 + l];
        if (f.state == EXITED) continue;
        live |= 1u << l;
        if (f.state == WAIT_WARP) {
            any_wait = true; arrived |= 1u << l;
            if (site < 0) { site = f.site; mask = f.mask; }
            else if (f.site != site || f.mask != mask) same = false;
        } else all_wait = false;
    }
    if (!any_wait || !all_wait) return false;
    if (!same) {
        char b[160];
        std::snprintf(b, sizeof b, "block %u warp %u: lanes meet at different "
                      "__shfl_*_sync sites/masks", blockIdx_.x, w);
        error(b);
    }
    if (mask != arrived) {
        char b[200];
        std::snprintf(b, sizeof b, "line %d, block %u warp %u: __shfl_*_sync mask "
                      "0x%08x but participating lanes 0x%08x (live 0x%08x)", site,
                      blockIdx_.x, w, mask, arrived, live);
        error(b);
    }
    ++stats.warp_syncs;
    const unsigned par = (fibers_[w * 32 + __builtin_ctz(arrived)].shfl_count - 1) & 1u;
    arrived_[par][w] = arrived;
    for (unsigned l = 0; l < ws; ++l)
        if (fibers_[w * 32 + l].state == WAIT_WARP) fibers_[w * 32 + l].state = RUN;
    return true;
}

// run kernel body for every thread of every block
inline void launch(dim3 grid, dim3 block, const std::function<void()>& body) {
    const unsigned nt = block.x * block.y * block.z;
    if (nt == 0 || nt > 1024) { error("bad block size"); return; }
    gridDim_ = grid;
    blockDim_ = block;
    body_ = &body;
    fibers_.assign(nt, Fiber{});
    if (stacks_.size() < nt * kStack) stacks_.resize(nt * kStack);
    const unsigned nwarps = (nt + 31) / 32;
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx_ = dim3{bx, by, bz};
        ++stats.blocks;
        for (unsigned i = 0; i < nt; ++i) {
            Fiber& f = fibers_[i];
            f.state = RUN; f.site = 0; f.mask = 0; f.shfl_count = 0; f.linear = i;
            f.tid = dim3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
            getcontext(&f.ctx);
            f.ctx.uc_stack.ss_sp = stacks_.data() + (size_t)i * kStack;
            f.ctx.uc_stack.ss_size = kStack;
            f.ctx.uc_link = &sched_ctx_;
            makecontext(&f.ctx, (void (*)())fiber_entry, 0);
        }
        // warp order of this block: a permutation (schedule "warp-ahead", default)
        // or 0..n-1 (schedule "pass"); see the header comment
        std::vector<unsigned> order(nwarps);
        for (unsigned w = 0; w < nwarps; ++w) order[w] = w;
        const bool warp_ahead = schedule_warp_ahead();
        if (warp_ahead) {
            unsigned long long r = 0x9E3779B97F4A7C15ull * (blockIdx_.x + 1) + seed_;
            for (unsigned w = nwarps; w > 1; --w) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                std::swap(order[w - 1], order[(r >> 33) % w]);
            }
        }
        for (;;) {
            for (unsigned w : order) {
                for (;;) {  // warp-ahead: keep running this warp through its shuffles
                    for (unsigned l = 0; l < warp_size_of(w); ++l) {
                        Fiber& f = fibers_[w * 32 + l];
                        while (f.state == RUN) {  // run it to its next barrier or its end
                            cur_ = &f;
                            cur_tid_ = f.tid;
                            swapcontext(&sched_ctx_, &f.ctx);
                        }
                    }
                    if (!warp_ahead || !release_warp(w)) break;
                }
            }
            bool all_exited = true, released = false;
            for (auto& f : fibers_) all_exited &= (f.state == EXITED);
            if (all_exited) break;
            // warp barriers
            for (unsigned w = 0; w < nwarps; ++w) released |= release_warp(w);
            if (released) continue;
            // block barrier
            bool all_block = true, any_exit = false; int site = -1; bool same = true;
            for (auto& f : fibers_) {
                if (f.state == EXITED) { any_exit = true; continue; }
                if (f.state != WAIT_BLOCK) { all_block = false; break; }
                if (site < 0) site = f.site; else if (f.site != site) same = false;
            }
            if (all_block) {
                if (!same) {
                    char b[120];
                    std::snprintf(b, sizeof b, "block %u: threads meet at different "
                                  "__syncthreads sites", blockIdx_.x);
                    error(b);
                }
                if (any_exit) {
                    char b[120];
                    std::snprintf(b, sizeof b, "line %d block %u: __syncthreads with exited "
                                  "threads", site, blockIdx_.x);
                    warning(b);
                }
                for (auto& f : fibers_) if (f.state == WAIT_BLOCK) f.state = RUN;
                continue;
            }
            // deadlock
            std::string m = "deadlock in block " + std::to_string(blockIdx_.x) + ":";
            int shown = 0;
            for (auto& f : fibers_) {
                if (f.state == EXITED) continue;
                if (shown++ < 8)
                    m += " t" + std::to_string(f.linear) + (f.state == WAIT_WARP ? "@shfl:" : "@sync:")
                         + std::to_string(f.site);
            }
            error(m);
            return;  // fibers abandoned (their stacks are reused next launch)
        }
    }
}

inline float u32_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned float_as_u32(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

}  // namespace cudaemu

// ------------------------------------------------------------- CUDA names
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define threadIdx (cudaemu::cur_tid_)
#define blockIdx (cudaemu::blockIdx_)
#define blockDim (cudaemu::blockDim_)
#define gridDim (cudaemu::gridDim_)
#define __syncthreads() cudaemu::syncthreads(__LINE__)
#define __shfl_sync(m, v, s) cudaemu::shuffle((m), (v), 0, (s), 32, __LINE__)
#define __shfl_down_sync(m, v, d) cudaemu::shuffle((m), (v), 1, (d), 32, __LINE__)
#define __shfl_up_sync(m, v, d) cudaemu::shuffle((m), (v), 2, (d), 32, __LINE__)
#define __shfl_xor_sync(m, v, x) cudaemu::shuffle((m), (v), 3, (x), 32, __LINE__)

struct alignas(16) uint4 { unsigned int x, y, z, w; };
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline float __uint_as_float(unsigned int u) { return cudaemu::u32_as_float(u); }
inline unsigned int __float_as_uint(float f) { return cudaemu::float_as_u32(f); }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
using std::fmin; using std::fmax; using std::fabs; using std::sqrt; using std::isnan;
