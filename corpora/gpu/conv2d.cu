// conv2d.cu: 2-D correlation of a float32 image with a 5 x 5 float32 filter ("valid" region).
//
//   out[y][x] = sum_{i < 5, j < 5} w[i][j] * img[y + i][x + j],   0 <= y < H, 0 <= x < W
//
// img is (H + 4) x (W + 4) (the halo is part of the input), w is 5 x 5, out is H x W, all
// row-major. The filter size is fixed at compile time (FS = 5).
//
// Algorithm
//   A block of BLOCK_X x BLOCK_Y threads computes an output tile of (BLOCK_Y * OUT_Y) rows
//   by (BLOCK_X * OUT_X) columns. Thread (tx, ty) computes OUT_Y consecutive rows
//   ty * OUT_Y + a (a < OUT_Y) and OUT_X columns strided by the block width,
//   tx + b * BLOCK_X (b < OUT_X), so a warp always touches consecutive columns (coalesced
//   global accesses, conflict-free shared-memory accesses).
//
//   Register reuse along y: the thread walks the OUT_Y + 4 input rows its outputs need
//   once; every input value it loads is used by all (up to 5) of its output rows whose
//   window contains that input row. So a thread makes (OUT_Y + 4) * OUT_X * 5 input loads for
//   OUT_Y * OUT_X * 25 FMAs. The 25 filter taps are read once into registers.
//
//   Edges: any H and W. Outputs outside the image are not stored; input coordinates are
//   clamped to the input so that no load leaves the buffer.
//
// Parameters (each a -D define; the values after #ifndef are the defaults)
//   BLOCK_X, BLOCK_Y : thread block shape
//   OUT_X            : outputs per thread along x (strided by BLOCK_X)
//   OUT_Y            : outputs per thread along y (consecutive rows, shared input rows)
//   SHARED           : 1 = the block first copies its input tile with halo,
//                      (BLOCK_Y*OUT_Y + 4) x (BLOCK_X*OUT_X + 4) floats, into shared memory
//                      (coalesced, one global read per input), then computes from there;
//                      0 = inputs are read straight from global memory through the
//                      read-only data cache (__ldg); neighbouring windows hit in L1
//
// Launch: grid = (ceil(W / (BLOCK_X*OUT_X)), ceil(H / (BLOCK_Y*OUT_Y))),
// block = (BLOCK_X, BLOCK_Y), no dynamic shared memory.

#ifndef BLOCK_X
#define BLOCK_X 32
#endif
#ifndef BLOCK_Y
#define BLOCK_Y 8
#endif
#ifndef OUT_X
#define OUT_X 1
#endif
#ifndef OUT_Y
#define OUT_Y 4
#endif
#ifndef SHARED
#define SHARED 1
#endif

#define FS 5                                // filter edge
#define TILE_W (BLOCK_X * OUT_X)            // output tile of one block
#define TILE_H (BLOCK_Y * OUT_Y)
#define HALO_W (TILE_W + FS - 1)            // input tile of one block
#define HALO_H (TILE_H + FS - 1)

static_assert(BLOCK_X * BLOCK_Y <= 1024, "at most 1024 threads per block");

extern "C" __global__ void __launch_bounds__(BLOCK_X * BLOCK_Y)
conv2d(const float* __restrict__ img, const float* __restrict__ w, float* __restrict__ out,
       int H, int W)
{
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int x0 = blockIdx.x * TILE_W;     // first output column of the block
    const int y0 = blockIdx.y * TILE_H;     // first output row of the block
    const int IW = W + FS - 1;              // input row length
    const int last_row = H + FS - 2, last_col = W + FS - 2;

#if SHARED
    __shared__ float tile[HALO_H][HALO_W];
    for (int r = ty; r < HALO_H; r += BLOCK_Y) {
        const float* src = img + (size_t)min(y0 + r, last_row) * IW;
        for (int c = tx; c < HALO_W; c += BLOCK_X) tile[r][c] = src[min(x0 + c, last_col)];
    }
    __syncthreads();
#define INPUT(r, c) tile[r][c]
#else
#define INPUT(r, c) __ldg(img + (size_t)min(y0 + (r), last_row) * IW + min(x0 + (c), last_col))
#endif

    float f[FS * FS];   // loaded after the tile copy: not live across its loops
#pragma unroll
    for (int t = 0; t < FS * FS; ++t) f[t] = __ldg(w + t);

    float acc[OUT_Y][OUT_X];
#pragma unroll
    for (int a = 0; a < OUT_Y; ++a)
#pragma unroll
        for (int b = 0; b < OUT_X; ++b) acc[a][b] = 0.0f;

    // Input row ty*OUT_Y + r (tile coordinates) feeds output row a with filter row i = r - a.
#pragma unroll
    for (int r = 0; r < OUT_Y + FS - 1; ++r) {
#pragma unroll
        for (int b = 0; b < OUT_X; ++b) {
#pragma unroll
            for (int j = 0; j < FS; ++j) {
                const float v = INPUT(ty * OUT_Y + r, tx + b * BLOCK_X + j);
#pragma unroll
                for (int a = 0; a < OUT_Y; ++a) {
                    const int i = r - a;
                    if (i >= 0 && i < FS) acc[a][b] = fmaf(f[i * FS + j], v, acc[a][b]);
                }
            }
        }
    }
#undef INPUT

#pragma unroll
    for (int a = 0; a < OUT_Y; ++a) {
        const int y = y0 + ty * OUT_Y + a;
#pragma unroll
        for (int b = 0; b < OUT_X; ++b) {
            const int x = x0 + tx + b * BLOCK_X;
            if (y < H && x < W) out[(size_t)y * W + x] = acc[a][b];
        }
    }
}
