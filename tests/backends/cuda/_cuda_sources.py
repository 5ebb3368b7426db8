"""Small CUDA sources shared by the CUDA toolchain tests."""

SCALE = r"""
extern "C" __global__ void scale(float* data, float factor, int n)
{
    __shared__ float staged[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    staged[threadIdx.x] = i < n ? data[i] : 0.0f;
    __syncthreads();
    if (i < n) data[i] = staged[threadIdx.x] * factor * SCALE_BY;
}
"""

BROKEN = r"""
extern "C" __global__ void broken(float* data)
{
    data[0] = undefined_value;
}
"""

TILE_TEMPLATE = r"""
template <int ROWS, int COLS>
__global__ void tile(float* data)
{
    __shared__ float staged[ROWS][COLS];
    staged[threadIdx.y][threadIdx.x] = data[threadIdx.y * COLS + threadIdx.x];
    __syncthreads();
    data[threadIdx.y * COLS + threadIdx.x] = staged[ROWS - 1 - threadIdx.y][threadIdx.x];
}
"""
