// logistic.cu — batched binomial (logistic) elastic-net: residuals, FISTA
// step and duality gap.
//
// Kernels (templated on T = float | double, the storage dtype of the
// (n, ·) slabs; every reduction, every scalar and every parameter array is
// double):
//
//   logistic_residual<T>  R = sw (y - sigmoid(Z + b)), Σ R; optional Newton
//                         polish of the intercept b first
//   logistic_step<T>      one accelerated proximal-gradient step (with the
//                         intercept as an unpenalized coordinate)
//   logistic_gap<T>       the duality gap and the loss of each problem
//
// Launch geometry: grid = (n,), block = (BLOCK,) with BLOCK a multiple of 32
// and at most 1024 (the launcher uses 256); one block owns one problem (one
// row of the (n, m) or (n, p) slabs) and strides over its m rows or p
// features.  No dynamic shared memory.
//
// Launched by gpureg/backends/_binomial_gpu.py (class CudaLogisticOps, through
// the loader in gpureg/backends/_kernels.py).  CPU twins (numba):
// gpureg/backends/_twins.py.
//
// The problems of one launch share one training set: its m rows (weights
// sw_i = s_i / n_w > 0, labels y_i ∈ {0, 1}) and its penalty weights a1_j =
// f_j σ_j, b2_j = f_j σ_j² (a1_j < 0: a constant column, held at 0).
// Problem k minimizes
//
//   P(w, b) = Σ_i sw_i [log(1 + e^{z_i}) - y_i z_i]
//             + Σ_j l1_k a1_j |w_j| + ½ l2_k b2_j w_j²,     z = X w + b,
//
// with w ≥ 0 when `positive`.  Z holds X w (one GEMM, W Xᵀ, before these
// kernels); G holds Xᵀ R (one GEMM, R X), the *negative* gradient of the
// loss.  All arrays are C-contiguous; the launcher asserts it.

#include "common.cuh"

// log(1 + e^z) without overflow
__device__ __forceinline__ double log1pexp(double z) {
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}
// 1 / (1 + e^{-z}) without overflow
__device__ __forceinline__ double sigmoid(double z) {
    if (z >= 0.0) return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}
// y - sigmoid(z), accurate for either label
__device__ __forceinline__ double residual(double y, double z) {
    return y > 0.5 ? sigmoid(-z) : -sigmoid(z);
}
// log(1 + e^z) - y z
__device__ __forceinline__ double logloss(double y, double z) {
    return y > 0.5 ? log1pexp(-z) : log1pexp(z);
}
__device__ __forceinline__ double xlogx(double t) { return t > 0.0 ? t * log(t) : 0.0; }

// R[k, i] = sw_i (y_i - sigmoid(Z[k, i] + b_k)) and rsum[k] = Σ_i R[k, i]
// (the intercept's negative gradient, summed from the stored R).
//
// With polish > 0, up to `polish` 1-D Newton steps on b_k come first
// (b += Σ sw r / Σ sw p (1 - p), stopping once |Σ sw r| <= 1e-15), and b is
// written back: at a check the intercept is made optimal for w, so that
// Σ sw r = 0, the dual constraint of an unpenalized intercept, holds.
template <typename T>
__global__ void logistic_residual(const T* __restrict__ Z,        // (n, m)
                                  double* __restrict__ b,         // (n,) in/out
                                  const double* __restrict__ y,   // (m,)
                                  const double* __restrict__ sw,  // (m,)
                                  T* __restrict__ R,              // (n, m) out
                                  double* __restrict__ rsum,      // (n,) out
                                  const int polish, const int n, const int m) {
    __shared__ double shm[32];
    const int k = blockIdx.x;
    if (k >= n) return;
    const long long row = (long long)k * m;
    double bk = b[k];
    for (int s = 0; s < polish; ++s) {
        double g = 0.0, h = 0.0;
        for (int i = threadIdx.x; i < m; i += blockDim.x) {
            const double p = sigmoid(to_f64(Z[row + i]) + bk);
            g += sw[i] * (y[i] - p);
            h += sw[i] * p * (1.0 - p);
        }
        g = block_sum(g, shm);
        h = block_sum(h, shm);
        if (!(h > 0.0) || fabs(g) <= 1e-15) break;
        bk += g / h;
    }
    double acc = 0.0;
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
        const T r = narrow(sw[i] * residual(y[i], to_f64(Z[row + i]) + bk), T());
        R[row + i] = r;
        acc += to_f64(r);
    }
    acc = block_sum(acc, shm);
    if (threadIdx.x == 0) {
        rsum[k] = acc;
        if (polish > 0) b[k] = bk;
    }
}

// One FISTA step with gradient-based adaptive restart (as enet_fista_step),
// the intercept b an unpenalized coordinate when `intercept`:
//
//   u      = y + step G                         // G = Xᵀ R at the point y
//   w_new  = S(u, step l1 a1) / (1 + step l2 b2)  (0 where a1 < 0)
//   b_new  = yb + step gb                       // gb = Σ R at y (else b_new = wb)
//   restart if (y - w_new)ᵀ(w_new - w) + (yb - b_new)(b_new - wb) > 0
template <typename T>
__global__ void logistic_step(const T* __restrict__ G,           // (n, p)
                              const T* __restrict__ Y,           // (n, p)
                              const T* __restrict__ W,           // (n, p)
                              T* __restrict__ W_next,            // (n, p) out
                              T* __restrict__ Y_next,            // (n, p) out
                              const double* __restrict__ yb,     // (n,)
                              const double* __restrict__ wb,     // (n,)
                              double* __restrict__ wb_next,      // (n,) out
                              double* __restrict__ yb_next,      // (n,) out
                              const double* __restrict__ gb,     // (n,)
                              const double* __restrict__ a1,     // (p,)
                              const double* __restrict__ b2,     // (p,)
                              const double* __restrict__ l1,     // (n,)
                              const double* __restrict__ l2,     // (n,)
                              double* __restrict__ t_mom,        // (n,) in/out
                              const double step, const int n, const int p,
                              const int positive, const int intercept) {
    __shared__ double shm[32];
    const int k = blockIdx.x;
    if (k >= n) return;
    const double c1 = step * l1[k];
    const double c2 = step * l2[k];
    const long long row = (long long)k * p;
    const double t = t_mom[k];  // read before the barriers: thread 0 rewrites it

    double acc = 0.0;  // (y - w_new)ᵀ (w_new - w)
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double y = to_f64(Y[row + j]);
        const double u = y + step * to_f64(G[row + j]);
        const double w_new =
            a1[j] >= 0.0 ? enet_prox(u, c1 * a1[j], 1.0 + c2 * b2[j], positive) : 0.0;
        const T w_store = narrow(w_new, T());
        W_next[row + j] = w_store;
        const double w_new_t = to_f64(w_store);
        acc += (y - w_new_t) * (w_new_t - to_f64(W[row + j]));
    }
    acc = block_sum(acc, shm);
    const double b_new = intercept ? yb[k] + step * gb[k] : wb[k];
    acc += (yb[k] - b_new) * (b_new - wb[k]);

    double t_new, beta;
    fista_momentum(acc, t, &t_new, &beta);
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double w_new = to_f64(W_next[row + j]);  // written by this thread
        Y_next[row + j] = narrow(w_new + beta * (w_new - to_f64(W[row + j])), T());
    }
    if (threadIdx.x == 0) {
        wb_next[k] = b_new;
        yb_next[k] = b_new + beta * (b_new - wb[k]);
        t_mom[k] = t_new;
    }
}

// Duality gap and loss of each problem at (w, b) (twin of the CPU solver's
// _numba_binomial._gap; numpy oracle _datafit.Logistic with fenchel_gap):
//
//   κ    = min(1, min_{j live, l1 a1_j > 0, l2 b2_j = 0, score_j > l1 a1_j}
//                  l1 a1_j / score_j)           score_j = |G_j| (G_j⁺ if positive)
//   gap  = Σ_i sw_i [ℓ(y_i, z_i) + h(y_i - κ r_i) + κ r_i z_i]
//          + Σ_{j live, penalized} [l1 a1 |w| + ½ l2 b2 w² + conj_j(κ G_j) - κ G_j w_j]
//          + Σ_{j live, unpenalized} |κ G_j w_j|
//   conj_j(v) = (|v| - l1 a1_j)₊² / (2 l2 b2_j)   (0 where l2 b2_j = 0)
//
// with r = y - sigmoid(z), z = Z + b and h(t) = t log t + (1-t) log(1-t).  G
// must be Xᵀ R at this (w, b), b polished (Σ R = 0).  The gap is clipped at 0
// (a NaN is kept so that a diverged fit is never certified); loss[k] is
// Σ sw ℓ, for the deviance ratio.
template <typename T>
__global__ void logistic_gap(const T* __restrict__ Z,         // (n, m)
                             const double* __restrict__ b,    // (n,)
                             const T* __restrict__ G,         // (n, p)
                             const T* __restrict__ W,         // (n, p)
                             const double* __restrict__ y,    // (m,)
                             const double* __restrict__ sw,   // (m,)
                             const double* __restrict__ a1,   // (p,)
                             const double* __restrict__ b2,   // (p,)
                             const double* __restrict__ l1,   // (n,)
                             const double* __restrict__ l2,   // (n,)
                             double* __restrict__ gap,        // (n,) out
                             double* __restrict__ loss,       // (n,) out
                             const int n, const int m, const int p,
                             const int positive) {
    __shared__ double shm[32];
    const int k = blockIdx.x;
    if (k >= n) return;
    const double L1 = l1[k];
    const double L2 = l2[k];
    const double bk = b[k];
    const long long zrow = (long long)k * m;
    const long long row = (long long)k * p;

    double kappa = 1.0;  // pure-L1 coordinates bound the dual scaling
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        const double l1a = L1 * a1[j];
        if (a1[j] >= 0.0 && l1a > 0.0 && L2 * b2[j] == 0.0) {
            const double g = to_f64(G[row + j]);
            const double score = positive ? fmax(g, 0.0) : fabs(g);
            if (score > l1a) kappa = fmin(kappa, l1a / score);
        }
    }
    kappa = block_min(kappa, shm);

    double dual = 0.0, primal = 0.0;
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
        const double z = to_f64(Z[zrow + i]) + bk;
        const double kr = kappa * residual(y[i], z);
        const double h = y[i] > 0.5 ? xlogx(1.0 - kr) + xlogx(kr)
                                    : xlogx(-kr) + xlogx(1.0 + kr);
        const double l = logloss(y[i], z);
        dual += sw[i] * (l + h + kr * z);
        primal += sw[i] * l;
    }
    dual = block_sum(dual, shm);
    primal = block_sum(primal, shm);

    double terms = 0.0;
    for (int j = threadIdx.x; j < p; j += blockDim.x) {
        if (a1[j] < 0.0) continue;
        const double w = to_f64(W[row + j]);
        const double v = kappa * to_f64(G[row + j]);
        const double l1a = L1 * a1[j];
        const double l2b = L2 * b2[j];
        if (l1a == 0.0 && l2b == 0.0) {  // unpenalized: 0 at its optimum
            terms += fabs(v * w);
            continue;
        }
        terms += enet_gap_term(w, v, l1a, l2b, positive);
    }
    terms = block_sum(terms, shm);
    if (threadIdx.x == 0) {
        const double g = dual + terms;
        gap[k] = (g > 0.0 || isnan(g)) ? g : 0.0;  // clip rounding; keep NaN
        loss[k] = primal;
    }
}
