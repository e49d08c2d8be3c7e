/* compat.h: one CUDA source, two compilers. Under nvcc this is the CUDA runtime; under g++
 * with MLPB_CUDA_EMU it is the HIP CPU runtime (../shared/hip-cpu), which runs the same
 * kernels on the CPU to prove them where no GPU is. Names only: nothing here computes, and
 * no kernel is written twice. What the emulation does not model (warpSize 64, shuffles and
 * __syncthreads as whole-block barriers, no grid sync, no graphs, no cuBLAS) is handled at
 * the two or three places that need it, behind MLPB_EMULATED. */
#ifndef MLPB_CUDA_COMPAT_H
#define MLPB_CUDA_COMPAT_H

#ifdef MLPB_CUDA_EMU
#include <hip/hip_runtime.h>
#define MLPB_EMULATED 1
/* the runtime asks g++ for simd clones of every kernel, which cannot take the kernels'
 * argument structs (an unsilenceable warning each); a kernel runs as a plain function */
#undef __global__
#define __global__ __attribute__((flatten))
#define CUDA_NS mlpb_cuda_emu

typedef hipError_t cudaError_t;
typedef hipStream_t cudaStream_t;
typedef hipEvent_t cudaEvent_t;
typedef hipDeviceProp_t cudaDeviceProp;
typedef hipMemcpyKind cudaMemcpyKind;
#define cudaSuccess hipSuccess
#define cudaErrorInsufficientDriver hipErrorInsufficientDriver
#define cudaGetErrorString hipGetErrorString
#define cudaGetLastError hipGetLastError
#define cudaGetDeviceCount hipGetDeviceCount
#define cudaGetDeviceProperties hipGetDeviceProperties
#define cudaDriverGetVersion hipDriverGetVersion
#define cudaRuntimeGetVersion hipRuntimeGetVersion
#define cudaSetDevice hipSetDevice
#define cudaStreamCreateWithFlags hipStreamCreateWithFlags
#define cudaStreamNonBlocking hipStreamNonBlocking
#define cudaStreamSynchronize hipStreamSynchronize
#define cudaStreamDestroy hipStreamDestroy
#define cudaEventCreate hipEventCreate
#define cudaEventDestroy hipEventDestroy
#define cudaEventRecord hipEventRecord
#define cudaEventSynchronize hipEventSynchronize
#define cudaEventElapsedTime hipEventElapsedTime
#define cudaMalloc hipMalloc
#define cudaFree hipFree
#define cudaMemcpyAsync hipMemcpyAsync
#define cudaMemsetAsync hipMemsetAsync
#define cudaMemcpyHostToDevice hipMemcpyHostToDevice
#define cudaMemcpyDeviceToHost hipMemcpyDeviceToHost
#define cudaMemcpyDeviceToDevice hipMemcpyDeviceToDevice
#define __shfl_xor_sync(mask, v, lane) __shfl_xor((v), (lane), 32)
#define rsqrtf(x) (1.0f / sqrtf(x))
#define LAUNCH(k, grid, block, smem, stream, ...)                                                  \
  hipLaunchKernelGGL(k, grid, block, smem, stream, __VA_ARGS__)
#define DYNAMIC_SHARED(type, var) HIP_DYNAMIC_SHARED(type, var)
#define UNROLL(n) MLPB_PRAGMA(GCC unroll n)

#else
#include <cuda_runtime.h>
#define MLPB_EMULATED 0
#define CUDA_NS mlpb_cuda
#define LAUNCH(k, grid, block, smem, stream, ...) k<<<grid, block, smem, stream>>>(__VA_ARGS__)
#define DYNAMIC_SHARED(type, var) extern __shared__ type var[]
#define UNROLL(n) MLPB_PRAGMA(unroll n)
#endif
#define MLPB_PRAGMA(x) _Pragma(#x)

#endif
