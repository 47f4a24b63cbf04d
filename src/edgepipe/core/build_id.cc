#include "edgepipe/core/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace edgepipe {
namespace {

struct Search {
  uintptr_t address = 0;
  bool found = false;
  std::string object;  // the object's file name ("" for the executable)
  std::string build_id;
};

// Note entries are 4-byte aligned (ELF gABI; GNU notes in 64-bit files too).
size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

std::string FindBuildIdNote(const unsigned char* p, size_t size) {
  size_t off = 0;
  while (off + sizeof(ElfW(Nhdr)) <= size) {
    ElfW(Nhdr) nh;
    std::memcpy(&nh, p + off, sizeof(nh));
    const size_t name_off = off + sizeof(nh);
    const size_t desc_off = name_off + Align4(nh.n_namesz);
    const size_t next = desc_off + Align4(nh.n_descsz);
    if (next > size || next <= off) break;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        std::memcmp(p + name_off, "GNU", 4) == 0) {
      std::string hex;
      for (size_t i = 0; i < nh.n_descsz; ++i) {
        char b[3];
        std::snprintf(b, sizeof(b), "%02x", p[desc_off + i]);
        hex += b;
      }
      return hex;
    }
    off = next;
  }
  return "";
}

int Visit(struct dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Search*>(data);
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (s->address >= begin && s->address < begin + ph.p_memsz) contains = true;
  }
  if (!contains) return 0;
  s->found = true;
  s->object = info->dlpi_name != nullptr ? info->dlpi_name : "";
  for (int i = 0; i < info->dlpi_phnum && s->build_id.empty(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    s->build_id = FindBuildIdNote(
        reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr), ph.p_memsz);
  }
  return 1;
}

}  // namespace

Result<std::string> BuildIdOf(const void* address) {
  Search s;
  s.address = reinterpret_cast<uintptr_t>(address);
  dl_iterate_phdr(Visit, &s);
  if (!s.found) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%p", address);
    return Status::NotFound(std::string("build id: no loaded object holds address ") + buf);
  }
  if (s.build_id.empty()) {
    return Status::FailedPrecondition(
        "build id: " + (s.object.empty() ? std::string("the executable") : s.object) +
        " has no NT_GNU_BUILD_ID note (linked with --build-id=none?)");
  }
  return s.build_id;
}

}  // namespace edgepipe
