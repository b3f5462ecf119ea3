// enet_fista.cu — batched elastic-net FISTA step and duality gap.
//
// Kernels (both templated on T = float | double, the storage dtype of the
// iterates; every reduction and every scalar parameter is double):
//
//   enet_fista_step<T>  one accelerated proximal-gradient step for n problems
//   enet_gap<T>         the Fenchel duality gap of n problems (as _penalty.py)
//
// Launch geometry: grid = (n_problems,), block = (BLOCK,) with BLOCK a
// multiple of 32 and at most 1024 (the launcher uses 256); one block owns one
// problem (one row of the (n, p) arrays) and strides over its p features.
// No dynamic shared memory.
//
// Launched by gpureg/backends/_gpu.py (class CudaOps, through the loader in
// gpureg/backends/_kernels.py).  CPU twins (numba): gpureg/backends/_twins.py.
//
// Problem k belongs to training set s = set_of[k]; G_s is that set's Gram
// matrix and c_s = X̃ᵀ S ỹ / n_w.  The smooth part is ½ wᵀG w - cᵀw, the
// penalty g(w) = Σ_j l1_k f_j |w_j| + ½ l2_k f_j w_j² (+ indicator of w ≥ 0
// when `positive`), with l1 = alpha·l1_ratio and l2 = alpha·(1 - l1_ratio).
// All arrays are C-contiguous; the launcher asserts it.
//
// Helpers (to_f64, narrow, block_sum, block_min, enet_prox, fista_momentum,
// enet_gap_term): common.cuh.

#include "common.cuh"

// One FISTA step with gradient-based adaptive restart (O'Donoghue & Candès):
//
//   z      = y - step_s (G_s y - c_s)                      // gradient step
//   w_new  = S(z, step_s l1 f) / (1 + step_s l2 f)          // prox of g
//   restart if (y - w_new)ᵀ(w_new - w) > 0: t' = 1, y' = w_new
//   else t' = (1 + sqrt(1 + 4 t²)) / 2, y' = w_new + (t - 1)/t' (w_new - w)
//
// GY holds G_s y (one GEMM per set, before this kernel).  Unpenalized
// features (f_j = 0) take the plain gradient step.
template <typename T>
__global__ void enet_fista_step(const T* __restrict__ GY,      // (n, p)
                                const T* __restrict__ Y,       // (n, p)
                                const T* __restrict__ W,       // (n, p)
                                T* __restrict__ W_next,        // (n, p) out
                                T* __restrict__ Y_next,        // (n, p) out
                                const double* __restrict__ C,  // (n_sets, p)
                                const int* __restrict__ set_of,    // (n,)
                                const double* __restrict__ step,   // (n_sets,)
                                const double* __restrict__ l1,     // (n,)
                                const double* __restrict__ l2,     // (n,)
                                const double* __restrict__ f,      // (p,)
                                double* __restrict__ t_mom,        // (n,) in/out
                                const int n, const int p, const int positive) {
    __shared__ double shm[32];
    const int k = blockIdx.x;
    if (k >= n) return;
    const int s = set_of[k];
    const double eta = step[s];
    const double a1 = eta * l1[k];
    const double a2 = eta * l2[k];
    const long long row = (long long)k * p;
    const double* c = C + (long long)s * p;
    const double t = t_mom[k];  // read before the barriers: thread 0 rewrites it

    double acc = 0.0;  // (y - w_new)ᵀ (w_new - w)
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double y = to_f64(Y[row + j]);
        const double z = y - eta * (to_f64(GY[row + j]) - c[j]);  // y - η(Gy - c)
        double w_new;
        if (f[j] > 0.0) {
            w_new = enet_prox(z, a1 * f[j], 1.0 + a2 * f[j], positive);
        } else {
            w_new = (positive && z < 0.0) ? 0.0 : z;
        }
        const T w_store = narrow(w_new, T());
        W_next[row + j] = w_store;
        const double w_new_t = to_f64(w_store);  // what the next step will read
        acc += (y - w_new_t) * (w_new_t - to_f64(W[row + j]));
    }
    acc = block_sum(acc, shm);

    double t_new, beta;
    fista_momentum(acc, t, &t_new, &beta);
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double w_new = to_f64(W_next[row + j]);  // written by this thread
        Y_next[row + j] = narrow(w_new + beta * (w_new - to_f64(W[row + j])), T());
    }
    if (threadIdx.x == 0) t_mom[k] = t_new;
}

// Duality gap of each problem at w (twin of gpureg._penalty.duality_gap):
//
//   grad  = c - G w                       // GW holds G_s w
//   r²    = yy - 2 cᵀw + wᵀ G w           // ‖r‖²_S / n_w
//   κ     = min(1, min_{j: f_j>0, l2 f_j=0, score_j > l1 f_j} l1 f_j / score_j)
//   v     = κ grad
//   gap   = ½ (1-κ)² r² + Σ_{f_j>0} [l1 f |w| + ½ l2 f w² + conj_j(v_j) - v_j w_j]
//                       + Σ_{f_j=0} |v_j w_j|
//   conj_j(v) = (|v| - l1 f_j)₊² / (2 l2 f_j)  (0 where l2 f_j = 0)
//
// score_j = |grad_j| (max(grad_j, 0) when positive).  The gap is clipped at 0
// (a NaN, from a diverged fit, is kept so that the fit is never certified).
template <typename T>
__global__ void enet_gap(const T* __restrict__ GW,        // (n, p)
                         const T* __restrict__ W,         // (n, p)
                         const double* __restrict__ C,    // (n_sets, p)
                         const double* __restrict__ yy,   // (n_sets,)
                         const int* __restrict__ set_of,  // (n,)
                         const double* __restrict__ l1,   // (n,)
                         const double* __restrict__ l2,   // (n,)
                         const double* __restrict__ f,    // (p,)
                         double* __restrict__ gap,        // (n,) out
                         const int n, const int p, const int positive) {
    __shared__ double shm[32];
    const int k = blockIdx.x;
    if (k >= n) return;
    const int s = set_of[k];
    const double L1 = l1[k];
    const double L2 = l2[k];
    const long long row = (long long)k * p;
    const double* c = C + (long long)s * p;

    // pass 1: cᵀw, wᵀGw and κ
    double cw = 0.0, wgw = 0.0, kappa = 1.0;
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double w = to_f64(W[row + j]);
        const double gw = to_f64(GW[row + j]);
        cw += c[j] * w;
        wgw += w * gw;
        const double g = c[j] - gw;
        const double score = positive ? fmax(g, 0.0) : fabs(g);
        const double l1f = L1 * f[j];
        if (f[j] > 0.0 && L2 * f[j] == 0.0 && score > l1f) kappa = fmin(kappa, l1f / score);
    }
    cw = block_sum(cw, shm);
    wgw = block_sum(wgw, shm);
    kappa = block_min(kappa, shm);
    const double rnorm2 = yy[s] - 2.0 * cw + wgw;

    // pass 2: the separable terms
    double terms = 0.0;
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double w = to_f64(W[row + j]);
        const double v = kappa * (c[j] - to_f64(GW[row + j]));
        if (f[j] > 0.0) {
            terms += enet_gap_term(w, v, L1 * f[j], L2 * f[j], positive);
        } else {
            terms += fabs(v * w);
        }
    }
    terms = block_sum(terms, shm);
    if (threadIdx.x == 0) {
        const double g = 0.5 * (1.0 - kappa) * (1.0 - kappa) * rnorm2 + terms;
        gap[k] = (g > 0.0 || isnan(g)) ? g : 0.0;  // clip rounding; keep NaN
    }
}
