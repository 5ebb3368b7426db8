// sgemm.cu: single-precision matrix product on CUDA cores (no tensor cores).
//
//   C = A * B,  A is M x K, B is K x N, C is M x N, all float32, row-major, dense.
//
// Algorithm
//   One thread block computes one BM x BN tile of C; blockIdx.x walks the tiles along N,
//   blockIdx.y along M. The block has (BM / TM) * (BN / TN) threads arranged as a grid of
//   BM / TM rows by BN / TN columns; each thread owns TM x TN outputs, accumulated in
//   registers over the whole K dimension (register blocking).
//
//   K is walked in steps of BK. For every step the block copies a BM x BK slice of A and a
//   BK x BN slice of B from global memory to shared memory. The A slice is stored
//   transposed (As[k][m]), so that in the inner loop both operands of one k are contiguous
//   rows of shared memory: a thread reads TM values of A (its rows) and TN values of B (its
//   columns) with 16-byte shared loads and does the TM x TN outer product with FMAs.
//
//   Thread tile layout: a thread's TM rows are not contiguous; they are TM / 4 groups of 4
//   consecutive rows, group g starting at row g * (4 * BM / TM) + 4 * ty (and likewise for
//   its TN columns). Neighbouring threads of a warp therefore read neighbouring 16-byte words
//   of shared memory (no bank conflicts) and write neighbouring float4 words of C (coalesced).
//
// Parameters (each a -D define; the values after #ifndef are the defaults)
//   BM, BN : rows / columns of the C tile of one block
//   BK     : depth of the K slice staged in shared memory per step
//   TM, TN : rows / columns of C computed by one thread (multiples of 4)
//   VEC    : width of the global loads of A and B: 1 = float, 4 = float4 (16 bytes)
//   DBUF   : 0 = one shared buffer: load slice, sync, compute, sync;
//            1 = two shared buffers: the global loads of slice t+1 are issued into registers
//                before slice t is computed, then written to the other buffer (one sync per
//                slice; hides global-memory latency behind the FMAs)
//   PAD    : extra floats per row of the transposed A slice (As[BK][BM + PAD]). With
//            PAD = 0 the lanes of a warp that store different k of the same rows of A hit
//            the same bank (BM is a multiple of 32); PAD = 4 shifts each k row by 4 banks
//            and keeps rows 16-byte aligned for the float4 reads
//   MINB   : second argument of __launch_bounds__ (blocks per SM the compiler must make room
//            for); caps registers per thread at about 65536 / (threads * MINB). NVRTC ignores
//            -maxrregcount for kernels with launch bounds, so this is the register knob.
//
// Sizes: no edge handling. Requires M % BM == 0, N % BN == 0, K % BK == 0 (this also makes
// every row of A, B and C 16-byte aligned, as VEC = 4 and the float4 stores of C need).
// Offsets inside a K slice are 32-bit: BM * K and BK * N must stay below 2^31.
// Threads per block (BM/TM)*(BN/TN) <= 1024, and static shared memory
// (1 + DBUF) * BK * (BM + PAD + BN) * 4 bytes <= 48 KiB.
//
// Launch: grid = (N / BN, M / BM), block = ((BM / TM) * (BN / TN)), no dynamic shared memory.

#ifndef BM
#define BM 128
#endif
#ifndef BN
#define BN 128
#endif
#ifndef BK
#define BK 8
#endif
#ifndef TM
#define TM 8
#endif
#ifndef TN
#define TN 8
#endif
#ifndef VEC
#define VEC 4
#endif
#ifndef DBUF
#define DBUF 1
#endif
#ifndef PAD
#define PAD 4
#endif
#ifndef MINB
#define MINB 1
#endif

#define THR_X (BN / TN)                    // threads along N
#define THR_Y (BM / TM)                    // threads along M
#define THREADS (THR_X * THR_Y)
#define NBUF (1 + DBUF)
#define A_STRIDE (BM + PAD)                // floats per row of the transposed A slice
#define A_VECS (BM * BK / VEC)             // vector loads per A slice
#define B_VECS (BK * BN / VEC)             // vector loads per B slice
#define A_LOADS ((A_VECS + THREADS - 1) / THREADS)   // per thread
#define B_LOADS ((B_VECS + THREADS - 1) / THREADS)

static_assert(BM % TM == 0 && BN % TN == 0, "BM % TM and BN % TN must be 0");
static_assert(TM % 4 == 0 && TN % 4 == 0, "TM and TN must be multiples of 4");
static_assert(VEC == 1 || VEC == 4, "VEC must be 1 or 4");
static_assert(BK % VEC == 0 && BN % VEC == 0, "BK and BN must be multiples of VEC");
static_assert(A_STRIDE % 4 == 0, "BM + PAD must be a multiple of 4 (float4 reads of As)");
static_assert(THREADS <= 1024, "at most 1024 threads per block");

template <int W> struct VecOf;
template <> struct VecOf<1> { typedef float type; };
template <> struct VecOf<4> { typedef float4 type; };
typedef VecOf<VEC>::type vec_t;

__device__ __forceinline__ float component(float v, int) { return v; }
__device__ __forceinline__ float component(const float4& v, int q)
{
    return q == 0 ? v.x : (q == 1 ? v.y : (q == 2 ? v.z : v.w));
}

extern "C" __global__ void __launch_bounds__(THREADS, MINB)
sgemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
      int M, int N, int K)
{
    __shared__ __align__(16) float As[NBUF][BK][A_STRIDE];
    __shared__ __align__(16) float Bs[NBUF][BK][BN];

    const int tid = threadIdx.x;
    const int tx = tid % THR_X;
    const int ty = tid / THR_X;

    // Top-left corners of this block's slices.
    const float* Ab = A + (size_t)blockIdx.y * BM * K;
    const float* Bb = B + (size_t)blockIdx.x * BN;
    float* Cb = C + (size_t)blockIdx.y * BM * N + (size_t)blockIdx.x * BN;

    vec_t ra[A_LOADS];   // staging registers for one A slice
    vec_t rb[B_LOADS];   // and one B slice

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

    // Global -> registers: vector v of the A slice is row v / (BK/VEC), k offset
    // (v % (BK/VEC)) * VEC, so a warp reads along k first (coalesced within each row).
    auto fetch = [&](int k0) {
        const float* Ak = Ab + k0;                 // this slice of A
        const float* Bk = Bb + (size_t)k0 * N;     // and of B
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int v = tid + l * THREADS;
            if (A_VECS % THREADS == 0 || v < A_VECS) {
                const int r = v / (BK / VEC), c = (v % (BK / VEC)) * VEC;
                ra[l] = *reinterpret_cast<const vec_t*>(Ak + r * K + c);
            }
        }
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            const int v = tid + l * THREADS;
            if (B_VECS % THREADS == 0 || v < B_VECS) {
                const int r = v / (BN / VEC), c = (v % (BN / VEC)) * VEC;
                rb[l] = *reinterpret_cast<const vec_t*>(Bk + r * N + c);
            }
        }
    };

    // Registers -> shared buffer `buf`; A is transposed on the way.
    auto stash = [&](int buf) {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int v = tid + l * THREADS;
            if (A_VECS % THREADS == 0 || v < A_VECS) {
                const int r = v / (BK / VEC), c = (v % (BK / VEC)) * VEC;
#pragma unroll
                for (int q = 0; q < VEC; ++q) As[buf][c + q][r] = component(ra[l], q);
            }
        }
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            const int v = tid + l * THREADS;
            if (B_VECS % THREADS == 0 || v < B_VECS) {
                const int r = v / (BN / VEC), c = (v % (BN / VEC)) * VEC;
                *reinterpret_cast<vec_t*>(&Bs[buf][r][c]) = rb[l];
            }
        }
    };

    // TM x TN outer products over the BK rows of shared buffer `buf`.
    auto compute = [&](int buf) {
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], b[TN];
#pragma unroll
            for (int g = 0; g < TM / 4; ++g) {
                const float4 t = *reinterpret_cast<const float4*>(&As[buf][k][g * 4 * THR_Y + 4 * ty]);
                a[4 * g + 0] = t.x; a[4 * g + 1] = t.y; a[4 * g + 2] = t.z; a[4 * g + 3] = t.w;
            }
#pragma unroll
            for (int g = 0; g < TN / 4; ++g) {
                const float4 t = *reinterpret_cast<const float4*>(&Bs[buf][k][g * 4 * THR_X + 4 * tx]);
                b[4 * g + 0] = t.x; b[4 * g + 1] = t.y; b[4 * g + 2] = t.z; b[4 * g + 3] = t.w;
            }
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
    };

    const int steps = K / BK;
#if DBUF
    fetch(0);
    stash(0);
    __syncthreads();
    for (int s = 0; s < steps; ++s) {
        const int cur = s & 1;
        const bool more = s + 1 < steps;
        if (more) fetch((s + 1) * BK);   // in flight during the FMAs below
        compute(cur);
        if (more) stash(cur ^ 1);        // nobody reads buffer cur^1 in this step
        __syncthreads();
    }
#else
    for (int s = 0; s < steps; ++s) {
        fetch(s * BK);
        stash(0);
        __syncthreads();
        compute(0);
        __syncthreads();
    }
#endif

    // Write the thread tile: row i is (i/4) * 4*THR_Y + 4*ty + i%4, and columns come in
    // float4 groups g at g * 4*THR_X + 4*tx.
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        float* crow = Cb + (size_t)((i / 4) * 4 * THR_Y + 4 * ty + (i % 4)) * N;
#pragma unroll
        for (int g = 0; g < TN / 4; ++g)
            *reinterpret_cast<float4*>(crow + g * 4 * THR_X + 4 * tx) =
                make_float4(acc[i][4 * g], acc[i][4 * g + 1], acc[i][4 * g + 2], acc[i][4 * g + 3]);
    }
}
