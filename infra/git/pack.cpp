#include "infra/git/pack.hpp"

#include <array>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <git2.h>

#include "infra/git/raii.hpp"

namespace fs = std::filesystem;

namespace grove::git {

using detail::check;
using detail::owned;
using messages::errc;
using messages::make_failure;

namespace {

constexpr std::array<char, 16> hex_digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A folder that is not a symbolic link: grove never lists or deletes through one.
bool real_dir(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() == fs::file_type::directory;
}

struct loose_object {
  git_oid id;
  fs::path file;
};

// Every loose object: .git/objects/<2 hex>/<38 hex>.
std::vector<loose_object> list_loose(const fs::path& gitdir) {
  std::vector<loose_object> out;
  auto objects = gitdir / "objects";
  for (char a : hex_digits) {
    for (char b : hex_digits) {
      std::string dir{a, b};
      std::error_code ec;
      if (!real_dir(objects / dir)) continue;
      for (fs::directory_iterator it{objects / dir, ec}, end; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (name.size() != 38 || !is_hex(name) || !it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        loose_object o;
        if (git_oid_fromstr(&o.id, (dir + name).c_str()) != 0) continue;
        o.file = it->path();
        out.push_back(std::move(o));
      }
    }
  }
  return out;
}

bool fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::vector<fs::path> list_packs(const fs::path& gitdir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it{gitdir / "objects" / "pack", ec}, end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".pack") out.push_back(it->path());
  }
  return out;
}

// Writes what `pb` holds as a pack and makes it durable; the new pack's .pack path.
result<fs::path> write_durable(git_packbuilder* pb, const fs::path& gitdir) {
  if (auto s = check(git_packbuilder_write(pb, nullptr, 0, nullptr, nullptr), "write the pack"); !s) return s.error();
  auto pack_dir = gitdir / "objects" / "pack";
  auto base = pack_dir / ("pack-" + std::string{git_packbuilder_name(pb)});
  fs::path pack_file{base.string() + ".pack"};
  fs::path idx_file{base.string() + ".idx"};
  if (!fsync_path(pack_file, O_RDONLY) || !fsync_path(idx_file, O_RDONLY) || !fsync_path(pack_dir, O_RDONLY)) {
    return make_failure(errc::git, "pack written but not made durable: " + pack_file.string());
  }
  return pack_file;
}

using packbuilder_ptr = owned<git_packbuilder, git_packbuilder_free>;

// A packbuilder on `repo` using `threads` threads for the delta search.
result<packbuilder_ptr> new_packbuilder(repository& repo, unsigned threads) {
  git_packbuilder* raw = nullptr;
  if (auto s = check(git_packbuilder_new(&raw, repo.raw()), "start a pack"); !s) return s.error();
  git_packbuilder_set_threads(raw, threads);
  return packbuilder_ptr{raw};
}

void refresh(repository& repo) {
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo.raw()) == 0) {
    git_odb_refresh(odb);
    git_odb_free(odb);
  }
}

} // namespace

size_t count_packs(const fs::path& gitdir) {
  return list_packs(gitdir).size();
}

result<pack_result> repack_all(repository& repo, unsigned threads) {
  pack_result r;
  auto gitdir = repo.gitdir();
  auto old = list_packs(gitdir);
  r.loose_before = list_loose(gitdir).size();
  auto pb = new_packbuilder(repo, threads);
  if (!pb) return pb.error();
  auto* raw = pb->get();
  git_revwalk* walk = nullptr;
  if (auto s = check(git_revwalk_new(&walk, repo.raw()), "walk the refs"); !s) return s.error();
  owned<git_revwalk, git_revwalk_free> walk_guard{walk};
  if (auto s = check(git_revwalk_push_glob(walk, "refs/*"), "walk the refs"); !s) return s.error();
  if (auto s = check(git_packbuilder_insert_walk(raw, walk), "collect reachable objects"); !s) return s.error();
  auto written = write_durable(raw, gitdir);
  if (!written) return written.error();
  r.packed = git_packbuilder_written(raw);
  for (auto& p : old) {
    if (p == *written) continue; // the same objects: the same pack
    auto keep = p;
    keep.replace_extension(".keep");
    std::error_code ec;
    if (fs::exists(keep, ec)) continue; // kept by someone on purpose
    for (auto* ext : {".idx", ".rev", ".pack"}) {
      auto f = p;
      f.replace_extension(ext);
      fs::remove(f, ec);
    }
  }
  refresh(repo);
  r.packs = count_packs(gitdir);
  return r;
}

size_t count_loose_objects(const fs::path& gitdir) {
  return list_loose(gitdir).size();
}

result<pack_result> pack_loose_objects(repository& repo, size_t threshold) {
  pack_result r;
  auto gitdir = repo.gitdir();
  auto loose = list_loose(gitdir);
  r.loose_before = loose.size();
  if (loose.empty() || loose.size() < threshold) {
    r.packs = count_packs(gitdir);
    return r;
  }
  auto pb = new_packbuilder(repo, 1); // in the background: one core, the other stays with the merges
  if (!pb) return pb.error();
  auto* raw = pb->get();
  for (auto& o : loose) {
    // An object that vanished meanwhile (another packer, git gc) is skipped, not an error.
    if (git_packbuilder_insert(raw, &o.id, nullptr) != 0) continue;
  }
  // The pack and its index are durable before any loose copy goes.
  auto written = write_durable(raw, gitdir);
  if (!written) return written.error();
  r.packed = git_packbuilder_written(raw);
  auto idx_file = *written;
  idx_file.replace_extension(".idx");
  // Remove only what the new pack holds (asked of the pack's own index through a fresh odb).
  git_odb* odb = nullptr;
  if (auto s = check(git_odb_new(&odb), "open the new pack"); !s) return s.error();
  owned<git_odb, git_odb_free> odb_guard{odb};
  git_odb_backend* backend = nullptr;
  if (auto s = check(git_odb_backend_one_pack(&backend, idx_file.c_str()), "open the new pack"); !s) {
    return s.error();
  }
  if (auto s = check(git_odb_add_backend(odb, backend, 1), "open the new pack"); !s) return s.error();
  for (auto& o : loose) {
    if (!git_odb_exists(odb, &o.id)) continue;
    std::error_code ec;
    if (fs::remove(o.file, ec)) ++r.removed;
  }
  refresh(repo); // this handle sees the new pack at once
  r.packs = count_packs(gitdir);
  return r;
}

size_t remove_stale_pack_files(const fs::path& gitdir) {
  size_t n = 0;
  std::error_code ec;
  if (!real_dir(gitdir / "objects" / "pack")) return 0;
  for (fs::directory_iterator it{gitdir / "objects" / "pack", ec}, end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.rfind("pack_git2_", 0) == 0 || name.rfind("tmp_pack_", 0) == 0 || name.rfind("tmp_idx_", 0) == 0) {
      std::error_code rm;
      if (fs::remove(it->path(), rm)) ++n;
    }
  }
  return n;
}

} // namespace grove::git
