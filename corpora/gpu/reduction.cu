// reduction.cu: sum of n float32 values into one float, in a single kernel launch.
//
//   out[0] = x[0] + x[1] + ... + x[n-1]
//
// Algorithm
//   Block b owns the tile of TILE = BLOCK * ITEMS * VEC consecutive elements starting at
//   b * TILE (grid = ceil(n / TILE), no grid-stride loop). In a full tile, thread t makes
//   ITEMS vector loads of VEC floats each, at vector indices it * BLOCK + t of the tile (a
//   warp reads consecutive vectors, so every load is coalesced) and adds them into one
//   register; the last, partial tile is read with scalar loads guarded by `i < n`, so any n
//   works. The block then adds up its BLOCK per-thread sums (see SHUFFLE).
//
//   The blocks' sums are combined without a second kernel launch: each block publishes its
//   sum (see FINISH), makes it visible with __threadfence(), and takes a ticket from the
//   counter `count`; the block that draws the last ticket knows every other sum is
//   published, produces out[0] and sets `count` back to 0, so the kernel can be launched
//   again on the same buffers without any host-side reset.
//
// Parameters (each a -D define; the values after #ifndef are the defaults)
//   BLOCK   : threads per block (a power of two, 32..1024)
//   ITEMS   : vector loads per thread per tile (all issued before the adds; fully unrolled)
//   VEC     : floats per load: 1 = float, 2 = float2, 4 = float4
//   SHUFFLE : block-level sum. 1 = __shfl_down_sync inside each warp, one shared-memory
//             word per warp, then the first warp adds the warp sums;
//             0 = shared-memory tree: BLOCK words, halved log2(BLOCK) times with a
//             __syncthreads() after each level
//   FINISH  : 0 = each block writes its sum to partials[b]; the last block adds the
//                 partials (fixed order, so the result is deterministic);
//             1 = each block atomicAdd()s its sum into accum[0]; the last block moves it to
//                 out[0] with atomicExch(accum, 0), leaving accum zeroed
//
// Buffers: partials holds at least ceil(n / TILE) floats (FINISH = 0 only); accum[0] and
// count[0] must be zero before the first launch (the kernel leaves them zero).
//
// Launch: grid = ceil(n / (BLOCK * ITEMS * VEC)), block = BLOCK, no dynamic shared memory.

#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef ITEMS
#define ITEMS 8
#endif
#ifndef VEC
#define VEC 4
#endif
#ifndef SHUFFLE
#define SHUFFLE 1
#endif
#ifndef FINISH
#define FINISH 0
#endif

#define TILE (BLOCK * ITEMS * VEC)
#define WARPS (BLOCK / 32)

static_assert(BLOCK >= 32 && BLOCK <= 1024 && (BLOCK & (BLOCK - 1)) == 0,
              "BLOCK must be a power of two in 32..1024");
static_assert(VEC == 1 || VEC == 2 || VEC == 4, "VEC must be 1, 2 or 4");

template <int W> struct VecOf;
template <> struct VecOf<1> { typedef float type; };
template <> struct VecOf<2> { typedef float2 type; };
template <> struct VecOf<4> { typedef float4 type; };
typedef VecOf<VEC>::type vec_t;

__device__ __forceinline__ float lanes_sum(float v) { return v; }
__device__ __forceinline__ float lanes_sum(const float2& v) { return v.x + v.y; }
__device__ __forceinline__ float lanes_sum(const float4& v) { return (v.x + v.y) + (v.z + v.w); }

__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
    return v;   // complete in lane 0
}

#if SHUFFLE
#define SCRATCH_WORDS (WARPS > 0 ? WARPS : 1)
#else
#define SCRATCH_WORDS BLOCK
#endif

// Sum of v over the block; the result is valid in thread 0 only. The caller must put a
// __syncthreads() between two calls (the scratch words are reused).
__device__ __forceinline__ float block_sum(float v, float* scratch)
{
    const int tid = threadIdx.x;
#if SHUFFLE
    v = warp_sum(v);
    if (WARPS > 1) {
        if ((tid & 31) == 0) scratch[tid >> 5] = v;
        __syncthreads();
        if (tid < 32) v = warp_sum(tid < WARPS ? scratch[tid] : 0.0f);
    }
    return v;
#else
    scratch[tid] = v;
    __syncthreads();
#pragma unroll
    for (int half = BLOCK / 2; half > 0; half >>= 1) {
        if (tid < half) scratch[tid] += scratch[tid + half];
        __syncthreads();
    }
    return tid == 0 ? scratch[0] : 0.0f;
#endif
}

extern "C" __global__ void __launch_bounds__(BLOCK)
reduce_sum(const float* __restrict__ x, float* __restrict__ out, float* __restrict__ partials,
           float* __restrict__ accum, int* __restrict__ count, int n)
{
    __shared__ float scratch[SCRATCH_WORDS];
    __shared__ int last_block;

    const int tid = threadIdx.x;
    const size_t base = (size_t)blockIdx.x * TILE;
    float sum = 0.0f;
    if (base + TILE <= (size_t)n) {
        // Full tile: x + base is 16-byte aligned because TILE is a multiple of VEC.
        const vec_t* xv = reinterpret_cast<const vec_t*>(x + base) + tid;
        vec_t v[ITEMS];
#pragma unroll
        for (int it = 0; it < ITEMS; ++it) v[it] = xv[it * BLOCK];
#pragma unroll
        for (int it = 0; it < ITEMS; ++it) sum += lanes_sum(v[it]);
    } else {
        for (size_t i = base + tid; i < (size_t)n; i += BLOCK) sum += x[i];
    }
    sum = block_sum(sum, scratch);

    if (tid == 0) {
#if FINISH
        atomicAdd(accum, sum);
#else
        partials[blockIdx.x] = sum;
#endif
        __threadfence();   // publish the sum before taking a ticket
        last_block = (atomicAdd(count, 1) == (int)gridDim.x - 1);
    }
    __syncthreads();
    if (!last_block) return;

    // Only the block that drew the last ticket gets here; all other sums are published.
    __threadfence();
#if FINISH
    if (tid == 0) {
        out[0] = atomicExch(accum, 0.0f);
        count[0] = 0;
    }
#else
    float total = 0.0f;
    for (int i = tid; i < (int)gridDim.x; i += BLOCK) total += __ldcg(partials + i);   // L2, not L1
    total = block_sum(total, scratch);
    if (tid == 0) {
        out[0] = total;
        count[0] = 0;
    }
#endif
}
