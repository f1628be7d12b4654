// How grove's repository handles store objects (tune_odb):
//
// 1. New loose objects are written uncompressed (zlib's stored blocks, a
// valid loose object for git and libgit2): they live until the packer packs
// them, compressed, a few thousand at a time (pack.hpp), and deflating each
// of a component's ~6 objects at level 1 was 13% of a build's instructions
// (libgit2's loose backend cannot be asked for zlib level 0: it then writes
// no zlib stream at all). Through libgit2's public backend interface
// (git2/sys/odb_backend.h), with zlib's adler32; libgit2 still hashes the
// object and checks first whether it exists.
//
// 2. A handle's pack list is rescanned only when the pack folder changed.
//
// libgit2 1.5 rescans objects/pack/ (a stat, an open of multi-pack-index, a
// directory listing) on every lookup that misses, and every object write
// starts with one ("does it exist already?" misses for a new object): seven
// system calls per object grove writes, ~60 per component. Packs come and go
// only by renames and unlinks in that folder, which move its mtime, so a
// rescan while the folder's (inode, mtime) is the one of the last rescan
// finds what the handle already lists and is skipped. A pack written by
// anyone (grove's packer, a `git gc` beside it) still shows up on the next miss.
// File times advance in kernel ticks (a few ms), so an mtime younger than
// `settled` may yet be shared by a later change: such a folder is rescanned
// until its mtime has aged (git's "racy" rule for the index, applied here).

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <git2/sys/odb_backend.h>

#include "infra/git/raii.hpp"
#include "infra/git/recent_objects.hpp"

namespace grove::git::detail {

namespace {

using refresh_fn = int (*)(git_odb_backend*);
using free_fn = void (*)(git_odb_backend*);

constexpr long long settled_ns = 50'000'000;

struct gate {
  refresh_fn refresh = nullptr;
  free_fn free = nullptr;
  std::string folder;
  bool seen = false; // the first rescan always runs: packs may have changed since the backend loaded them
  ino_t ino = 0;
  struct timespec mtime {};
};

std::mutex gates_lock;
std::unordered_map<git_odb_backend*, gate>& gates() {
  static auto* g = new std::unordered_map<git_odb_backend*, gate>; // outlives static destruction order
  return *g;
}

int gated_refresh(git_odb_backend* backend) {
  refresh_fn inner = nullptr;
  struct stat st {};
  bool have_stat = false;
  {
    std::lock_guard<std::mutex> guard{gates_lock};
    auto it = gates().find(backend);
    if (it == gates().end()) return 0; // unreachable: only gated backends point here
    auto& g = it->second;
    inner = g.refresh;
    have_stat = ::stat(g.folder.c_str(), &st) == 0;
    if (have_stat && g.seen && st.st_ino == g.ino && st.st_mtim.tv_sec == g.mtime.tv_sec &&
        st.st_mtim.tv_nsec == g.mtime.tv_nsec) {
      return 0;
    }
    // Noted before the rescan: a change during it moves the mtime again and is seen next time.
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    long long age = (now.tv_sec - st.st_mtim.tv_sec) * 1'000'000'000LL + (now.tv_nsec - st.st_mtim.tv_nsec);
    g.seen = have_stat && age >= settled_ns;
    g.ino = st.st_ino;
    g.mtime = st.st_mtim;
  }
  return inner(backend);
}

void gated_free(git_odb_backend* backend) {
  free_fn inner = nullptr;
  {
    std::lock_guard<std::mutex> guard{gates_lock};
    auto it = gates().find(backend);
    if (it != gates().end()) {
      inner = it->second.free;
      gates().erase(it);
    }
  }
  if (inner != nullptr) inner(backend);
}

int list_nothing(git_odb_backend*, git_odb_foreach_cb, void*) {
  return 0;
}

// zlib's stored format (RFC 1950/1951): a header, blocks of up to 65,535
// bytes copied as they are, the Adler-32 of the whole.
std::string stored_zlib(const std::string& raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 65535 * 5 + 16);
  out.push_back(static_cast<char>(0x78));
  out.push_back(static_cast<char>(0x01));
  size_t at = 0;
  do {
    size_t n = std::min<size_t>(raw.size() - at, 65535);
    bool last = at + n == raw.size();
    out.push_back(static_cast<char>(last ? 1 : 0));
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(~n & 0xff));
    out.push_back(static_cast<char>((~n >> 8) & 0xff));
    out.append(raw, at, n);
    at += n;
  } while (at < raw.size());
  uLong sum =
    adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size()));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((sum >> shift) & 0xff));
  return out;
}

struct plain_writer {
  git_odb_backend parent;
  std::string objects; // ".../.git/objects/"
  std::shared_ptr<recent_objects> recent;
};

std::string objects_dir(git_repository* repo) {
  return (std::filesystem::path{git_repository_commondir(repo)} / "objects").string() + "/";
}

plain_writer* writer_of(git_odb_backend* backend) {
  return reinterpret_cast<plain_writer*>(backend);
}

int recent_read(void** buf, size_t* len, git_object_t* type, git_odb_backend* backend, const git_oid* id) {
  return writer_of(backend)->recent->read(*id, backend, buf, len, type) ? 0 : GIT_ENOTFOUND;
}

int recent_header(size_t* len, git_object_t* type, git_odb_backend* backend, const git_oid* id) {
  return writer_of(backend)->recent->header(*id, len, type) ? 0 : GIT_ENOTFOUND;
}

int recent_has(git_odb_backend* backend, const git_oid* id) {
  return writer_of(backend)->recent->has(*id) ? 1 : 0;
}

int write_failed(const std::string& what) {
  git_error_set_str(GIT_ERROR_OS, (what + ": " + std::strerror(errno)).c_str());
  return -1;
}

// Writes a loose object as git does (a temporary file renamed into place,
// read-only), its content stored uncompressed.
int plain_write(git_odb_backend* backend, const git_oid* id, const void* data, size_t len, git_object_t type) {
  auto* self = writer_of(backend);
  std::string raw = git_object_type2string(type);
  raw.append(" ").append(std::to_string(len)).push_back('\0');
  raw.append(static_cast<const char*>(data), len);
  if (raw.size() > std::numeric_limits<uInt>::max()) return GIT_PASSTHROUGH; // libgit2's own writer takes it
  auto bytes = stored_zlib(raw);
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), id);
  auto dir = self->objects + std::string{hex, 2};
  auto final_path = dir + "/" + (hex + 2);
  thread_local std::mt19937_64 random{std::random_device{}()};
  auto tmp = dir + "/tmp_obj_grove_" + std::to_string(random());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0 && errno == ENOENT) {
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return write_failed("create " + dir);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
  }
  if (fd < 0) return write_failed("create " + tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      return write_failed("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return write_failed("write " + tmp);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return write_failed("store " + final_path);
  }
  self->recent->remember(*id, type, data, len);
  if (auto* fresh = fresh_writes::current()) fresh->note(*id);
  return 0;
}

void free_plain_writer(git_odb_backend* backend) {
  delete writer_of(backend);
}

// First in line for writes, and for reads and existence checks of what this
// process wrote lately (recent_objects.hpp); everything else, and listings,
// stay with the default loose and pack backends.
void add_plain_writer(git_repository* repo, git_odb* odb) {
  auto* w = new plain_writer{};
  git_odb_init_backend(&w->parent, GIT_ODB_BACKEND_VERSION);
  w->objects = objects_dir(repo);
  w->recent = recent_objects::of(w->objects);
  w->parent.write = plain_write;
  w->parent.read = recent_read;
  w->parent.read_header = recent_header;
  w->parent.exists = recent_has;
  w->parent.foreach = list_nothing; // git_odb_foreach calls it unchecked
  w->parent.free = free_plain_writer;
  if (git_odb_add_backend(odb, &w->parent, 100) < 0) {
    git_error_clear();
    delete w;
  }
}

void gate_pack_rescans(git_odb* odb, git_repository* repo) {
  // The pack backend is the one that refreshes and cannot write single objects.
  // With alternates there are several, each with its own folder: not gated.
  git_odb_backend* pack = nullptr;
  size_t packs = 0;
  for (size_t i = 0; i < git_odb_num_backends(odb); ++i) {
    git_odb_backend* b = nullptr;
    if (git_odb_get_backend(&b, odb, i) < 0) return;
    if (b->refresh != nullptr && b->write == nullptr) {
      pack = b;
      ++packs;
    }
  }
  if (packs != 1 || pack->refresh == gated_refresh || pack->free == nullptr) return;
  gate g;
  g.refresh = pack->refresh;
  g.free = pack->free;
  g.folder = (std::filesystem::path{git_repository_commondir(repo)} / "objects" / "pack").string();
  std::lock_guard<std::mutex> guard{gates_lock};
  gates()[pack] = std::move(g);
  pack->refresh = gated_refresh;
  pack->free = gated_free;
}

// The handle's plain writer, if tune_odb could add one.
git_odb_backend* plain_writer_in(git_odb* odb) {
  for (size_t i = 0; i < git_odb_num_backends(odb); ++i) {
    git_odb_backend* b = nullptr;
    if (git_odb_get_backend(&b, odb, i) == 0 && b->write == plain_write) return b;
  }
  return nullptr;
}

thread_local fresh_writes* innermost = nullptr;

} // namespace

fresh_writes::fresh_writes() : outer_(innermost) {
  innermost = this;
}

fresh_writes::~fresh_writes() {
  innermost = outer_;
}

fresh_writes* fresh_writes::current() {
  return innermost;
}

void fresh_writes::note(const git_oid& id) {
  if (ids_.size() < max_ids) ids_.push_back(id);
}

bool fresh_writes::has(const git_oid& id) const {
  return std::any_of(ids_.begin(), ids_.end(), [&](const git_oid& x) { return git_oid_equal(&x, &id); });
}

messages::result<git_oid> store_object(git_repository* repo, git_object_t type, const void* data, size_t len) {
  git_oid id;
  if (auto s = check(git_odb_hash(&id, data, len, type), "hash object"); !s) return s.error();
  git_odb* odb = nullptr;
  if (auto s = check(git_repository_odb(&odb, repo), "open the object database"); !s) return s.error();
  owned<git_odb, git_odb_free> odb_guard{odb};
  if (auto* b = plain_writer_in(odb)) {
    // Written again when it is there already but not recent: a rename over
    // the same bytes (or a loose copy of a packed object) costs less than asking.
    if (writer_of(b)->recent->has(id)) return id;
    int rc = plain_write(b, &id, data, len, type);
    if (rc != GIT_PASSTHROUGH) {
      if (auto s = check(rc, "write object"); !s) return s.error();
      return id;
    }
  }
  git_oid written;
  if (auto s = check(git_odb_write(&written, odb, data, len, type), "write object"); !s) return s.error();
  return written;
}

bool stored_on_disk(git_odb* odb, const git_oid& id) {
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < git_odb_num_backends(odb); ++i) {
      git_odb_backend* b = nullptr;
      if (git_odb_get_backend(&b, odb, i) < 0 || b->write == plain_write || b->exists == nullptr) continue;
      if (b->exists(b, &id) == 1) return true;
    }
    if (pass == 0 && git_odb_refresh(odb) < 0) git_error_clear();
  }
  return false;
}

void forget_recent_objects(git_repository* repo) {
  recent_objects::forget(objects_dir(repo));
}

void tune_odb(git_repository* repo) {
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo) < 0) { // left as it is: correct, only slower
    git_error_clear();
    return;
  }
  owned<git_odb, git_odb_free> odb_guard{odb};
  gate_pack_rescans(odb, repo);
  add_plain_writer(repo, odb);
}

} // namespace grove::git::detail
