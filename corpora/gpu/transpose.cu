// transpose.cu: out-of-place transpose of a float32 matrix through shared memory.
//
//   out[j][i] = in[i][j],  in is n x m (row-major), out is m x n (row-major)
//
// Algorithm
//   A naive transpose either reads or writes global memory with a stride of a whole row.
//   Here one thread block moves one TILE x TILE tile: it reads the tile's rows from `in`
//   (consecutive threads read consecutive addresses), keeps the tile in shared memory, and
//   writes the tile's columns as rows of `out` (again consecutive addresses), so both
//   global passes are coalesced and the transposition happens in shared memory.
//
//   The block is (TILE / VEC) x BLOCK_ROWS threads. Thread (tx, ty) handles VEC
//   consecutive elements, starting at column VEC * tx of the tile, in tile rows ty,
//   ty + BLOCK_ROWS, ty + 2 * BLOCK_ROWS, ... (TILE / BLOCK_ROWS rows per thread).
//   blockIdx.x walks the tiles along m (columns of `in`), blockIdx.y along n.
//
//   Edges: every access is guarded, so any n and m work; a vector is either wholly inside
//   or wholly outside the matrix because m and n are multiples of VEC (a restriction).
//
// Parameters (each a -D define; the values after #ifndef are the defaults)
//   TILE       : edge of the square tile, in floats
//   BLOCK_ROWS : thread rows per block (<= TILE); each thread copies TILE / BLOCK_ROWS rows
//   PAD        : 0 = tile[TILE][TILE]; 1 = tile[TILE][TILE + 1]. Reading a column of the
//                tile hits one shared-memory bank 32 times when PAD = 0 (TILE a multiple of
//                32); the extra float per row moves consecutive rows to consecutive banks
//   VEC        : floats per global load / store: 1 = float, 2 = float2, 4 = float4 (shared
//                memory is always accessed with scalar loads and stores)
//   STREAM     : 0 = ordinary global loads and stores; 1 = streaming cache hints
//                (__ldcs / __stcs, evict-first: each element is touched once)
//
// Launch: grid = (ceil(m / TILE), ceil(n / TILE)), block = (TILE / VEC, BLOCK_ROWS),
// no dynamic shared memory. Static shared memory TILE * (TILE + PAD) * 4 bytes.

#ifndef TILE
#define TILE 32
#endif
#ifndef BLOCK_ROWS
#define BLOCK_ROWS 8
#endif
#ifndef PAD
#define PAD 1
#endif
#ifndef VEC
#define VEC 1
#endif
#ifndef STREAM
#define STREAM 0
#endif

#define TPX (TILE / VEC)   // threads along x

static_assert(VEC == 1 || VEC == 2 || VEC == 4, "VEC must be 1, 2 or 4");
static_assert(TILE % VEC == 0 && TILE % BLOCK_ROWS == 0, "TILE must be a multiple of VEC and BLOCK_ROWS");
static_assert(TPX * BLOCK_ROWS <= 1024, "at most 1024 threads per block");

template <int W> struct VecOf;
template <> struct VecOf<1> { typedef float type; };
template <> struct VecOf<2> { typedef float2 type; };
template <> struct VecOf<4> { typedef float4 type; };
typedef VecOf<VEC>::type vec_t;

__device__ __forceinline__ float* lanes(float& v) { return &v; }
__device__ __forceinline__ float* lanes(float2& v) { return &v.x; }
__device__ __forceinline__ float* lanes(float4& v) { return &v.x; }

__device__ __forceinline__ vec_t load_vec(const vec_t* p)
{
#if STREAM
    return __ldcs(p);
#else
    return *p;
#endif
}

__device__ __forceinline__ void store_vec(vec_t* p, const vec_t& v)
{
#if STREAM
    __stcs(p, v);
#else
    *p = v;
#endif
}

extern "C" __global__ void __launch_bounds__(TPX * BLOCK_ROWS)
transpose(const float* __restrict__ in, float* __restrict__ out, int n, int m)
{
    __shared__ float tile[TILE][TILE + PAD];

    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row0 = blockIdx.y * TILE;   // first row of `in` in this tile
    const int col0 = blockIdx.x * TILE;   // first column of `in` in this tile

    // in -> tile: tile[r][c] = in[row0 + r][col0 + c]
    {
        const int c = col0 + VEC * tx;
#pragma unroll
        for (int r = ty; r < TILE; r += BLOCK_ROWS) {
            if (row0 + r < n && c < m) {
                vec_t v = load_vec(reinterpret_cast<const vec_t*>(in + (size_t)(row0 + r) * m + c));
                const float* f = lanes(v);
#pragma unroll
                for (int q = 0; q < VEC; ++q) tile[r][VEC * tx + q] = f[q];
            }
        }
    }
    __syncthreads();

    // tile -> out: out[col0 + r][row0 + c] = tile[c][r]
    {
        const int c = row0 + VEC * tx;
#pragma unroll
        for (int r = ty; r < TILE; r += BLOCK_ROWS) {
            if (col0 + r < m && c < n) {
                vec_t v;
                float* f = lanes(v);
#pragma unroll
                for (int q = 0; q < VEC; ++q) f[q] = tile[VEC * tx + q][r];
                store_vec(reinterpret_cast<vec_t*>(out + (size_t)(col0 + r) * n + c), v);
            }
        }
    }
}
