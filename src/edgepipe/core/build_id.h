// The GNU build id of loaded code: a digest the linker computes over the
// linked object's contents (ld --build-id), so it changes whenever the code
// of that executable or shared library changes. Used to put "the code behind
// a name" into cache keys (components/transform.h).
#ifndef EDGEPIPE_CORE_BUILD_ID_H_
#define EDGEPIPE_CORE_BUILD_ID_H_

#include <string>

#include "edgepipe/core/status.h"

namespace edgepipe {

// The build id (lower-case hex, e.g. 40 digits for ld's default sha1) of the
// loaded object (the executable or a shared library) whose mapped segments
// contain `address`, e.g. a function pointer. NotFound naming the address
// when no loaded object holds it; FailedPrecondition naming the object when
// it has no NT_GNU_BUILD_ID note (linked with --build-id=none). Reads only
// the process's own mapped memory (dl_iterate_phdr); thread-safe.
Result<std::string> BuildIdOf(const void* address);

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_BUILD_ID_H_
