#include "infra/git/pack.hpp"

#include <algorithm>
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

constexpr size_t roll_cap = 16384;

struct pack_file {
  fs::path pack;
  size_t objects = 0;
};

// Objects in a pack, from its .idx (version 2: magic, version, then 256
// cumulative counts whose last is the total); 0 when unreadable.
size_t objects_in(const fs::path& pack) {
  auto idx = pack;
  idx.replace_extension(".idx");
  int fd = ::open(idx.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned char head[8], total[4];
  bool ok = ::pread(fd, head, 8, 0) == 8 && ::pread(fd, total, 4, 8 + 255 * 4) == 4;
  ::close(fd);
  if (!ok || head[0] != 0xff || head[1] != 't' || head[2] != 'O' || head[3] != 'c' || head[7] != 2) return 0;
  return (size_t{total[0]} << 24) | (size_t{total[1]} << 16) | (size_t{total[2]} << 8) | size_t{total[3]};
}

bool kept(const fs::path& pack) {
  auto keep = pack;
  keep.replace_extension(".keep");
  std::error_code ec;
  return fs::exists(keep, ec);
}

void remove_pack(const fs::path& pack) {
  for (auto* ext : {".idx", ".rev", ".pack"}) {
    auto f = pack;
    f.replace_extension(ext);
    std::error_code ec;
    fs::remove(f, ec);
  }
}

using odb_ptr = owned<git_odb, git_odb_free>;

// An object database reading only the pack `pack` (through its .idx).
result<odb_ptr> open_one_pack(const fs::path& pack) {
  auto idx = pack;
  idx.replace_extension(".idx");
  git_odb* odb = nullptr;
  if (auto s = check(git_odb_new(&odb), "open pack " + pack.filename().string()); !s) return s.error();
  odb_ptr guard{odb};
  git_odb_backend* backend = nullptr;
  if (auto s = check(git_odb_backend_one_pack(&backend, idx.c_str()), "open pack " + pack.filename().string()); !s) {
    return s.error();
  }
  if (auto s = check(git_odb_add_backend(odb, backend, 1), "open pack " + pack.filename().string()); !s) {
    return s.error();
  }
  return guard;
}

// Every object id in `pack`.
result<std::vector<git_oid>> ids_in(const fs::path& pack) {
  auto odb = open_one_pack(pack);
  if (!odb) return odb.error();
  std::vector<git_oid> ids;
  auto collect = [](const git_oid* id, void* payload) {
    static_cast<std::vector<git_oid>*>(payload)->push_back(*id);
    return 0;
  };
  if (auto s = check(git_odb_foreach(odb->get(), collect, &ids), "list pack " + pack.filename().string()); !s) {
    return s.error();
  }
  return ids;
}

// The packs a packing of `loose` objects rolls into its pack: the smallest
// ones, as long as each is under twice what is gathered so far (git repack
// --geometric=2) and under `roll_cap` objects. Packs then grow geometrically:
// each object is rewritten O(log cap) times, a packing holds at most a few
// times `roll_cap` objects in memory (libgit2's packbuilder keeps them for
// its delta search: ~260 MB and 12 s for 70,000 objects at 10,000
// components), and there are about n / roll_cap + log(roll_cap) packs.
std::vector<fs::path> packs_to_roll(const fs::path& gitdir, size_t loose) {
  std::vector<pack_file> packs;
  for (auto& p : list_packs(gitdir)) {
    if (kept(p)) continue;
    packs.push_back({p, objects_in(p)});
  }
  std::sort(packs.begin(), packs.end(), [](auto& a, auto& b) { return a.objects < b.objects; });
  std::vector<fs::path> out;
  size_t gathered = loose;
  for (auto& p : packs) {
    if (p.objects == 0 || p.objects >= 2 * gathered || p.objects >= roll_cap) break;
    out.push_back(p.pack);
    gathered += p.objects;
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
  detail::forget_recent_objects(repo.raw()); // unreachable ones go with the old packs
  for (auto& p : old) {
    if (p == *written || kept(p)) continue; // the same objects: the same pack; or kept on purpose
    remove_pack(p);
  }
  note_packs_removed();
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
  // Small packs roll into this one; one that cannot be read stays as it is.
  std::vector<std::pair<fs::path, std::vector<git_oid>>> rolled;
  for (auto& p : packs_to_roll(gitdir, loose.size())) {
    auto ids = ids_in(p);
    if (!ids) continue;
    bool all = true;
    for (auto& id : *ids) all = all && git_packbuilder_insert(raw, &id, nullptr) == 0;
    if (all) rolled.emplace_back(p, std::move(*ids));
  }
  // The pack and its index are durable before any loose copy or old pack goes.
  auto written = write_durable(raw, gitdir);
  if (!written) return written.error();
  r.packed = git_packbuilder_written(raw);
  // Remove only what the new pack holds (asked of the pack's own index through a fresh odb).
  auto fresh = open_one_pack(*written);
  if (!fresh) return fresh.error();
  for (auto& o : loose) {
    if (!git_odb_exists(fresh->get(), &o.id)) continue;
    std::error_code ec;
    if (fs::remove(o.file, ec)) ++r.removed;
  }
  // Another handle that already opened an old pack keeps reading it (the file
  // lives on while open); one that has not finds the object missing there,
  // rescans the folder (libgit2 does on a miss) and reads it from the new pack.
  for (auto& [pack, ids] : rolled) {
    if (pack == *written) continue; // the same objects: the same pack
    bool held =
      std::all_of(ids.begin(), ids.end(), [&](const git_oid& id) { return git_odb_exists(fresh->get(), &id); });
    if (!held) continue;
    remove_pack(pack);
    ++r.rolled;
  }
  if (r.rolled > 0) note_packs_removed();
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
