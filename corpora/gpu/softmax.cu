// softmax.cu: numerically stable row-wise softmax of a float32 matrix.
//
//   y[r][c] = exp(x[r][c] - max_r) / sum_k exp(x[r][k] - max_r),   max_r = max_k x[r][k]
//
// x and y are rows x cols, row-major.
//
// Algorithm
//   A block of (TPR, RPB) threads handles RPB rows; the TPR threads with the same
//   threadIdx.y share one row (row = blockIdx.x * RPB + threadIdx.y; rows past the end do
//   nothing). Thread t of a row reads the row's vectors t, t + TPR, t + 2 * TPR, ... (VEC
//   floats each, coalesced across the row's threads). A row-wide combine is a warp shuffle
//   (xor butterfly), then, when TPR > 32, one shared-memory word per warp that every thread
//   of the row reads back.
//
//   Three sweeps over the row:
//     1. the row maximum m and the sum s = sum exp(x - m),
//          ONLINE = 0: as two passes over x (max first, then the sum);
//          ONLINE = 1: as one pass keeping a running maximum and rescaling the running sum
//                      when the maximum grows, s' = s * exp(m - m') + exp(x - m'); partial
//                      (m, s) pairs are combined the same way;
//     2. y = exp(x - m) * (1 / s).
//   So x is read 3 times (ONLINE = 0) or 2 times (ONLINE = 1) and y written once.
//   With CACHE = 1 the first pass also copies the row into shared memory and later passes
//   read it from there, so x is read from global memory exactly once.
//
// Parameters (each a -D define; the values after #ifndef are the defaults)
//   TPR    : threads per row (a power of two, 32..1024)
//   RPB    : rows per block (block = TPR * RPB threads <= 1024)
//   VEC    : floats per global load / store: 1, 2 or 4 (requires cols % VEC == 0)
//   ONLINE : 0 = separate max and sum passes; 1 = single online max-and-sum pass
//   CACHE  : 1 = keep the rows in dynamic shared memory (RPB * cols * 4 bytes, which must
//            be passed as the launch's dynamic shared memory and stay <= 48 KiB);
//            0 = no dynamic shared memory, later passes re-read x (mostly from L2)
//
// Fast math (--use_fast_math) turns expf into the hardware approximation __expf.
//
// Launch: grid = ceil(rows / RPB), block = (TPR, RPB),
// dynamic shared memory = CACHE * RPB * cols * 4 bytes.

#ifndef TPR
#define TPR 128
#endif
#ifndef RPB
#define RPB 1
#endif
#ifndef VEC
#define VEC 4
#endif
#ifndef ONLINE
#define ONLINE 1
#endif
#ifndef CACHE
#define CACHE 0
#endif

#define WARPS_PER_ROW (TPR / 32)

static_assert(TPR >= 32 && TPR <= 1024 && (TPR & (TPR - 1)) == 0, "TPR must be a power of two in 32..1024");
static_assert(TPR * RPB <= 1024, "at most 1024 threads per block");
static_assert(VEC == 1 || VEC == 2 || VEC == 4, "VEC must be 1, 2 or 4");

template <int W> struct VecOf;
template <> struct VecOf<1> { typedef float type; };
template <> struct VecOf<2> { typedef float2 type; };
template <> struct VecOf<4> { typedef float4 type; };
typedef VecOf<VEC>::type vec_t;

__device__ __forceinline__ float* lanes(float& v) { return &v; }
__device__ __forceinline__ float* lanes(float2& v) { return &v.x; }
__device__ __forceinline__ float* lanes(float4& v) { return &v.x; }

#define LOWEST (-3.402823466e+38f)   // -FLT_MAX: exp(LOWEST - m) is 0 for any finite m

// Combine (m, s) with (m2, s2): both sums rescaled to the larger maximum.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2)
{
    const float mm = fmaxf(m, m2);
    s = s * expf(m - mm) + s2 * expf(m2 - mm);
    m = mm;
}

// Row-wide combines. `red` holds WARPS_PER_ROW words per row of the block; the caller
// separates two uses of the same words with a __syncthreads().
__device__ __forceinline__ float row_max(float v, float* red)
{
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, d));
    if (WARPS_PER_ROW > 1) {
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
        __syncthreads();
        v = red[0];
#pragma unroll
        for (int k = 1; k < WARPS_PER_ROW; ++k) v = fmaxf(v, red[k]);
    }
    return v;
}

__device__ __forceinline__ float row_sum(float v, float* red)
{
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
    if (WARPS_PER_ROW > 1) {
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
        __syncthreads();
        v = red[0];
#pragma unroll
        for (int k = 1; k < WARPS_PER_ROW; ++k) v += red[k];
    }
    return v;
}

extern "C" __global__ void __launch_bounds__(TPR * RPB)
softmax(const float* __restrict__ x, float* __restrict__ y, int rows, int cols)
{
    __shared__ float red_m[RPB][WARPS_PER_ROW];
    __shared__ float red_s[RPB][WARPS_PER_ROW];
#if CACHE
    extern __shared__ __align__(16) float cache[];
    vec_t* rowc = reinterpret_cast<vec_t*>(cache + (size_t)threadIdx.y * cols);
#endif

    const int t = threadIdx.x;
    const int row = blockIdx.x * RPB + threadIdx.y;
    const bool active = row < rows;            // the block's threads all reach every sync
    const int nv = active ? cols / VEC : 0;    // vectors in this row
    const vec_t* xr = reinterpret_cast<const vec_t*>(x + (size_t)row * cols);
    vec_t* yr = reinterpret_cast<vec_t*>(y + (size_t)row * cols);

    float m = LOWEST, s = 0.0f;

#if ONLINE
    // One pass: running maximum and running sum relative to it.
    for (int i = t; i < nv; i += TPR) {
        vec_t v = xr[i];
#if CACHE
        rowc[i] = v;
#endif
        const float* f = lanes(v);
        float vm = f[0];
#pragma unroll
        for (int q = 1; q < VEC; ++q) vm = fmaxf(vm, f[q]);
        const float mm = fmaxf(m, vm);
        float add = 0.0f;
#pragma unroll
        for (int q = 0; q < VEC; ++q) add += expf(f[q] - mm);
        s = s * expf(m - mm) + add;
        m = mm;
    }
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, d);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, d);
        merge(m, s, m2, s2);
    }
    if (WARPS_PER_ROW > 1) {
        float* rm = red_m[threadIdx.y];
        float* rs = red_s[threadIdx.y];
        if ((t & 31) == 0) { rm[t >> 5] = m; rs[t >> 5] = s; }
        __syncthreads();
        m = rm[0]; s = rs[0];
#pragma unroll
        for (int k = 1; k < WARPS_PER_ROW; ++k) merge(m, s, rm[k], rs[k]);
    }
#else
    // Pass 1: maximum.
    for (int i = t; i < nv; i += TPR) {
        vec_t v = xr[i];
#if CACHE
        rowc[i] = v;
#endif
        const float* f = lanes(v);
#pragma unroll
        for (int q = 0; q < VEC; ++q) m = fmaxf(m, f[q]);
    }
    m = row_max(m, red_m[threadIdx.y]);
    // Pass 2: sum of exponentials.
    for (int i = t; i < nv; i += TPR) {
#if CACHE
        vec_t v = rowc[i];   // written by this same thread in pass 1
#else
        vec_t v = xr[i];
#endif
        const float* f = lanes(v);
#pragma unroll
        for (int q = 0; q < VEC; ++q) s += expf(f[q] - m);
    }
    s = row_sum(s, red_s[threadIdx.y]);
#endif

    // Last pass: normalize. (Each thread reads back only the cache words it wrote itself.)
    const float inv = 1.0f / s;
    for (int i = t; i < nv; i += TPR) {
#if CACHE
        vec_t v = rowc[i];
#else
        vec_t v = xr[i];
#endif
        float* f = lanes(v);
#pragma unroll
        for (int q = 0; q < VEC; ++q) f[q] = expf(f[q] - m) * inv;
        yr[i] = v;
    }
}
