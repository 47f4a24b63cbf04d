// gzip streams over the file layer. Used for TFRecord shards (ExampleGen
// writes `.gz` shards) and for gzip IDX files. Reading and the fast levels
// use ISA-L's igzip; levels 0 and 4..9 use zlib. Every stream is a standard
// gzip member that any gzip reader (TensorFlow's included) reads.
//
// Not thread-safe: one stream per thread.
#ifndef EDGEPIPE_DATA_COMPRESSION_H_
#define EDGEPIPE_DATA_COMPRESSION_H_

#include <memory>
#include <string>

#include "edgepipe/core/file.h"

namespace edgepipe::data {

// True when `prefix` starts with the gzip magic bytes 1f 8b.
bool HasGzipMagic(std::string_view prefix);

// Wraps `base` and inflates it; concatenated gzip members are read as one
// stream. Errors name the file, the compressed byte offset and the reason:
// "x.gz: bad gzip stream at compressed byte 10: invalid deflate block", or
// "x.gz: gzip stream truncated after 4096 compressed bytes".
std::unique_ptr<ReadableFile> NewGzipReadableFile(std::unique_ptr<ReadableFile> base);

// Wraps `base` and deflates into it (a single gzip member). `level` 0..9:
// 0 stores (zlib), 1..3 are ISA-L igzip's levels (about 5x faster than zlib's
// level 1; level 1 compresses about as well as zlib's level 1), 4..9 are
// zlib's levels (TensorFlow's default is 6). Outside 0..9 every call fails
// with InvalidArgument. Close() finishes the stream and closes `base`.
std::unique_ptr<WritableFile> NewGzipWritableFile(std::unique_ptr<WritableFile> base,
                                                  int level = 6);

// Wraps `file` in an inflating stream when its first bytes are the gzip magic;
// otherwise returns a file that reads exactly what `file` holds (the peeked
// bytes are replayed). When `is_gzip` is not null it receives which it was.
Result<std::unique_ptr<ReadableFile>> MaybeGzip(std::unique_ptr<ReadableFile> file,
                                                bool* is_gzip = nullptr);

// Opens `path`, inflating when its first bytes are the gzip magic.
Result<std::unique_ptr<ReadableFile>> OpenMaybeGzip(const std::string& path,
                                                    Env* env = Env::Default());

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_COMPRESSION_H_
