// common.cuh — helpers shared by the kernel modules (enet_fista.cu,
// logistic.cu, dropout.cu).
//
// No include guard on purpose: each .cu file is its own CUDA module and
// includes this once; the CPU emulator (tests/cuda_emu) includes every module
// in a namespace of its own, so each needs its own copy.  The loader
// (gpureg/backends/_kernels.py) inlines this file into a module's source
// before NVRTC compiles it, so the source hash covers it.
//
// float32 <-> float64 conversions go through to_f64 / narrow: CuPy compiles
// with -ftz=true, under which a plain cast is cvt.rn.ftz.f32.f64 (or
// cvt.ftz.f64.f32) and flushes float32 subnormals to zero, unlike the numba
// twins.  Without a device (__CUDA_ARCH__ undefined: the CPU emulator of
// tests/test_kernels_emulated.py) they are plain casts.

#ifndef GPUREG_WARP
#define GPUREG_WARP 32
#endif

__device__ __forceinline__ double to_f64(double v) { return v; }
__device__ __forceinline__ double to_f64(float v) {
#if defined(__CUDA_ARCH__)
    double r;
    asm("cvt.f64.f32 %0, %1;" : "=d"(r) : "f"(v));  // exact, subnormals kept
    return r;
#else
    return (double)v;
#endif
}
// v rounded to the storage type of `like` (round to nearest even, no flush)
__device__ __forceinline__ double narrow(double v, double) { return v; }
__device__ __forceinline__ float narrow(double v, float) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("cvt.rn.f32.f64 %0, %1;" : "=f"(r) : "d"(v));
    return r;
#else
    return (float)v;
#endif
}

// Sum of v over the block; every thread gets the result.
__device__ __forceinline__ double block_sum(double v, double* shm) {
    for (int off = GPUREG_WARP / 2; off > 0; off >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, off);
    const int lane = threadIdx.x % GPUREG_WARP;
    const int warp = threadIdx.x / GPUREG_WARP;
    __syncthreads();  // shm may still be read by a previous reduction
    if (lane == 0) shm[warp] = v;
    __syncthreads();
    const int n_warps = (blockDim.x + GPUREG_WARP - 1) / GPUREG_WARP;
    double total = 0.0;
    for (int i = 0; i < n_warps; ++i) total += shm[i];
    return total;
}

// Minimum of v over the block; every thread gets the result.
__device__ __forceinline__ double block_min(double v, double* shm) {
    for (int off = GPUREG_WARP / 2; off > 0; off >>= 1)
        v = fmin(v, __shfl_down_sync(0xffffffffu, v, off));
    const int lane = threadIdx.x % GPUREG_WARP;
    const int warp = threadIdx.x / GPUREG_WARP;
    __syncthreads();
    if (lane == 0) shm[warp] = v;
    __syncthreads();
    const int n_warps = (blockDim.x + GPUREG_WARP - 1) / GPUREG_WARP;
    double m = shm[0];
    for (int i = 1; i < n_warps; ++i) m = fmin(m, shm[i]);
    return m;
}

// The elastic-net prox of one coordinate: S(u, thr) / denom, with
// S the soft-threshold (its positive part when `positive`).
__device__ __forceinline__ double enet_prox(double u, double thr, double denom,
                                            int positive) {
    double num = 0.0;
    if (u > thr) num = u - thr;
    else if (u < -thr && !positive) num = u + thr;
    return num / denom;
}

// Nesterov momentum with gradient-based adaptive restart (O'Donoghue &
// Candès): restart when acc = (y - w_new)ᵀ(w_new - w) > 0.  Sets the next
// momentum t_new and the extrapolation weight beta.
__device__ __forceinline__ void fista_momentum(double acc, double t, double* t_new,
                                               double* beta) {
    const bool restart = acc > 0.0;
    *t_new = restart ? 1.0 : 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
    *beta = restart ? 0.0 : (t - 1.0) / *t_new;
}

// One penalized coordinate's Fenchel-Young gap term at the dual value v:
// l1f |w| + ½ l2f w² + conj(v) - v w, conj(v) = (|v| - l1f)₊² / (2 l2f)
// (0 where l2f = 0; |v| is v₊ when `positive`).
__device__ __forceinline__ double enet_gap_term(double w, double v, double l1f,
                                                double l2f, int positive) {
    const double vs = positive ? fmax(v, 0.0) : fabs(v);
    const double excess = fmax(vs - l1f, 0.0);
    const double conj = l2f > 0.0 ? excess * excess / (2.0 * l2f) : 0.0;
    return l1f * fabs(w) + 0.5 * l2f * w * w + conj - v * w;
}
