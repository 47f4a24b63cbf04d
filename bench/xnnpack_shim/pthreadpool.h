// Debian's libxnnpack-dev (0.0~git20220216) includes <pthreadpool.h> in
// xnnpack.h but ships no pthreadpool header (libpthreadpool-dev is not in
// Debian). The benchmark only passes a null pool (XNNPACK then runs on the
// calling thread), so the opaque handle type is all xnnpack.h needs.
#ifndef EDGEPIPE_BENCH_XNNPACK_SHIM_PTHREADPOOL_H_
#define EDGEPIPE_BENCH_XNNPACK_SHIM_PTHREADPOOL_H_

typedef struct pthreadpool* pthreadpool_t;

#endif  // EDGEPIPE_BENCH_XNNPACK_SHIM_PTHREADPOOL_H_
