// dropout.cu — fused dropout (and bias–dropout–residual) with Philox4x32-10.
//
// Kernel (one, templated):
//
//   dropout_fwd<Tag, VEC>
//     y_i = residual_i + (keep_i ? (x_i + bias_{i mod bias_n}) · scale : 0)
//     with residual/bias optional (null pointers), and the bit-packed mask
//     (bit i mod 32 of word i div 32 = keep_i) written when `mask` is not null.
//     The backward pass is the same kernel on grad_y (same seed and offset).
//
//   Tag  ∈ {F32, F64, F16, BF16}: storage type and arithmetic type (float32
//        for F32/F16/BF16, float64 for F64).  16-bit values are converted
//        with PTX cvt (round to nearest even), so no fp16/bf16 headers are
//        needed under NVRTC; without a device (the CPU emulator) by the
//        integer conversions f16_to_f32 / f32_to_f16 below.
//   VEC  true when x, residual and y are 16-byte aligned: each thread then
//        moves its chunk with 16-byte vector loads/stores.
//
// Launch geometry: 1-D grid-stride loop over *chunks* of E elements (E = 4
// for F32/F64, 8 for F16/BF16; one Philox call per 4 elements); block = 256
// threads (a multiple of 32 is required: the mask words are assembled with
// warp shuffles), grid = min(ceil(n_chunks / 256), 32 · SMs).
//
// RNG mapping (docs/design.md §6; bit-exact on every backend):
//   key     = (seed mod 2³², seed div 2³²)
//   counter = (q mod 2³², q div 2³², offset mod 2³², offset div 2³²), q = i div 4
//   r_i     = philox4x32_10(counter, key)[i mod 4]
//   keep_i  = r_i >= threshold,  threshold = round(p · 2³²)  (64-bit; p = 1 → 2³²)
// so the mask depends on (seed, offset, i, p) only, never on the launch.
// Products and sums are single .rn operations (no FMA contraction, no flush of
// subnormals), so the CPU twins (gpureg/backends/_dropout_cpu.py: fused_dropout, keep_mask;
// gpureg/dropout.py: _cpu) match bit for bit.  bf16 rounding is
// cvt.rn.bf16.f32 on sm_80+ and integer round-to-nearest-even before.
//
// Launched by gpureg/dropout.py (function _gpu) through the loader in
// gpureg/backends/_kernels.py.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

struct uint4x { unsigned int v[4]; };

// Philox4x32-10 (Random123): ten rounds, key bumped between rounds.
__device__ __forceinline__ uint4x philox4x32_10(unsigned int c0, unsigned int c1,
                                                unsigned int c2, unsigned int c3,
                                                unsigned int k0, unsigned int k1) {
#pragma unroll
    for (int r = 0; r < 10; ++r) {
        if (r > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        const unsigned int hi0 = __umulhi(PHILOX_M0, c0);
        const unsigned int lo0 = PHILOX_M0 * c0;
        const unsigned int hi1 = __umulhi(PHILOX_M1, c2);
        const unsigned int lo1 = PHILOX_M1 * c2;
        const unsigned int n0 = hi1 ^ c1 ^ k0;  // (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        const unsigned int n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    uint4x out;
    out.v[0] = c0; out.v[1] = c1; out.v[2] = c2; out.v[3] = c3;
    return out;
}

// float32 products and sums as inline PTX: CuPy compiles with -ftz=true (last on
// NVRTC's command line, so it wins), which would flush subnormals in __fmul_rn
// and __fadd_rn; the plain .rn instructions keep them, as the CPU does.
// Without a device (__CUDA_ARCH__ undefined: the CPU emulator of
// tests/test_kernels_emulated.py, built with -ffp-contract=off) they are the
// plain IEEE operations, which is what the instructions compute.
__device__ __forceinline__ float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));  // a * b, no FMA, no FTZ
    return r;
#else
    return a * b;
#endif
}
__device__ __forceinline__ float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));  // a + b
    return r;
#else
    return a + b;
#endif
}
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }

#include "common.cuh"  // narrow: double -> float without -ftz's flush

struct F32 {
    typedef float S; typedef float C; enum { E = 4 };
    static __device__ __forceinline__ C load(S v) { return v; }
    static __device__ __forceinline__ S store(C v) { return v; }
};
struct F64 {
    typedef double S; typedef double C; enum { E = 4 };
    static __device__ __forceinline__ C load(S v) { return v; }
    static __device__ __forceinline__ S store(C v) { return v; }
};
// IEEE binary16 <-> binary32 by integer arithmetic, round to nearest even:
// what cvt.f32.f16 and cvt.rn.f16.f32 compute (a NaN stays a NaN; its payload
// is not kept).  The device uses the instructions.
__device__ __forceinline__ float f16_to_f32(unsigned short h) {
    const unsigned int sign = ((unsigned int)h & 0x8000u) << 16;
    unsigned int e = ((unsigned int)h >> 10) & 0x1Fu;
    unsigned int m = (unsigned int)h & 0x3FFu;
    if (e == 0x1Fu) return __uint_as_float(sign | 0x7F800000u | (m << 13));  // inf, NaN
    if (e == 0u) {
        if (m == 0u) return __uint_as_float(sign);  // ±0
        e = 1u;  // subnormal: normalize (the result is a normal float32)
        while (!(m & 0x400u)) { m <<= 1; --e; }
        m &= 0x3FFu;
    }
    return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
}
__device__ __forceinline__ unsigned short f32_to_f16(float f) {
    const unsigned int u = __float_as_uint(f);
    const unsigned int sign = (u >> 16) & 0x8000u;
    const unsigned int a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (unsigned short)(sign | 0x7E00u);  // NaN
    if (a >= 0x477FF000u) return (unsigned short)(sign | 0x7C00u);  // >= 65520: inf
    if (a >= 0x38800000u) {  // a normal half: rebias, round 23 -> 10 mantissa bits
        const unsigned int r = a - 0x38000000u;
        return (unsigned short)(sign | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13));
    }
    const unsigned int e = a >> 23;  // below 2^-14: a subnormal half (or 0)
    if (e < 102u) return (unsigned short)sign;  // below 2^-25: rounds to ±0
    const unsigned int m = (a & 0x7FFFFFu) | 0x800000u;
    const unsigned int shift = 126u - e;  // 14 .. 24: units of 2^-24
    unsigned int q = m >> shift;
    const unsigned int rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return (unsigned short)(sign | q);
}

struct F16 {
    typedef unsigned short S; typedef float C; enum { E = 8 };
    static __device__ __forceinline__ C load(S v) {
#if defined(__CUDA_ARCH__)
        float f;
        asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v));
        return f;
#else
        return f16_to_f32(v);
#endif
    }
    static __device__ __forceinline__ S store(C f) {
#if defined(__CUDA_ARCH__)
        unsigned short h;
        asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
        return h;
#else
        return f32_to_f16(f);
#endif
    }
};
struct BF16 {
    typedef unsigned short S; typedef float C; enum { E = 8 };
    static __device__ __forceinline__ C load(S v) {
        return __uint_as_float(((unsigned int)v) << 16);
    }
    static __device__ __forceinline__ S store(C f) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
        unsigned short h;
        asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f));
        return h;
#else  // before sm_80: round to nearest even by hand (as gpureg.dropout._from_float)
        const unsigned int u = __float_as_uint(f);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (S)0x7FFF;  // NaN
        return (S)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
#endif
    }
};

// 16-byte vector moves of E elements of storage S (E · sizeof(S) = 16 or 32).
template <typename S, int E>
__device__ __forceinline__ void load_chunk(const S* __restrict__ p, S* out) {
    const uint4* q = reinterpret_cast<const uint4*>(p);
#pragma unroll
    for (int k = 0; k < (int)(E * sizeof(S) / 16); ++k) {
        const uint4 w = q[k];
        const S* s = reinterpret_cast<const S*>(&w);
#pragma unroll
        for (int j = 0; j < (int)(16 / sizeof(S)); ++j) out[k * (16 / sizeof(S)) + j] = s[j];
    }
}

template <typename S, int E>
__device__ __forceinline__ void store_chunk(S* __restrict__ p, const S* in) {
    uint4* q = reinterpret_cast<uint4*>(p);
#pragma unroll
    for (int k = 0; k < (int)(E * sizeof(S) / 16); ++k) {
        uint4 w;
        S* s = reinterpret_cast<S*>(&w);
#pragma unroll
        for (int j = 0; j < (int)(16 / sizeof(S)); ++j) s[j] = in[k * (16 / sizeof(S)) + j];
        q[k] = w;
    }
}

template <typename Tag, bool VEC>
__global__ void dropout_fwd(const typename Tag::S* __restrict__ x,
                            const typename Tag::S* __restrict__ residual,  // or null
                            const typename Tag::S* __restrict__ bias,      // or null
                            typename Tag::S* __restrict__ y,
                            unsigned int* __restrict__ mask,  // (ceil(n/32),) or null
                            const long long n, const long long bias_n,
                            const unsigned int key0, const unsigned int key1,
                            const unsigned int off0, const unsigned int off1,
                            const unsigned long long threshold, const double scale_d) {
    typedef typename Tag::S S;
    typedef typename Tag::C C;
    const int E = Tag::E;
    const C scale = narrow(scale_d, C());  // exact: a float32 value for float32
    const long long n_chunks = (n + E - 1) / E;
    const int lane = threadIdx.x & 31;
    const long long stride = (long long)gridDim.x * blockDim.x;
    // every lane of a warp runs the same iterations (shuffles below)
    for (long long base = (long long)blockIdx.x * blockDim.x + (threadIdx.x & ~31);
         base < n_chunks; base += stride) {
        const long long c = base + lane;
        unsigned int bits = 0;
        if (c < n_chunks) {
            const long long i0 = c * E;
            const bool full = i0 + E <= n;
            S xs[E], rs[E], out[E];
            if (VEC && full) {
                load_chunk<S, E>(x + i0, xs);
                if (residual) load_chunk<S, E>(residual + i0, rs);
            } else {
                for (int j = 0; j < E; ++j) {
                    xs[j] = (i0 + j < n) ? x[i0 + j] : (S)0;
                    rs[j] = (residual && i0 + j < n) ? residual[i0 + j] : (S)0;
                }
            }
#pragma unroll
            for (int qd = 0; qd < E / 4; ++qd) {
                const unsigned long long q = (unsigned long long)(i0 / 4 + qd);
                const uint4x r = philox4x32_10((unsigned int)q, (unsigned int)(q >> 32),
                                               off0, off1, key0, key1);
#pragma unroll
                for (int w = 0; w < 4; ++w) {
                    const int j = qd * 4 + w;
                    const bool keep = (unsigned long long)r.v[w] >= threshold;
                    C v = Tag::load(xs[j]);
                    if (bias) v = add_rn(v, Tag::load(bias[(i0 + j) % bias_n]));  // x + b
                    C t = keep ? mul_rn(v, scale) : (C)0;  // keep ? (x + b)·scale : 0
                    if (residual) t = add_rn(Tag::load(rs[j]), t);  // residual + t
                    out[j] = Tag::store(t);
                    if (keep && i0 + j < n) bits |= 1u << j;
                }
            }
            if (VEC && full) {
                store_chunk<S, E>(y + i0, out);
            } else {
                for (int j = 0; j < E; ++j)
                    if (i0 + j < n) y[i0 + j] = out[j];
            }
        }
        if (mask) {
            // lanes g·(32/E) .. g·(32/E)+32/E-1 share one mask word: OR their bits
            const int per_word = 32 / E;
            unsigned int word = bits << ((lane % per_word) * E);
            for (int off = 1; off < per_word; off <<= 1)
                word |= __shfl_xor_sync(0xffffffffu, word, off);
            if (c < n_chunks && lane % per_word == 0) mask[(c * E) / 32] = word;
        }
    }
}
