#include <atomic>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <unistd.h>

#include "infra/git/files.hpp"
#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "logic/library.hpp"

namespace fs = std::filesystem;

namespace grove::git {

using messages::errc;
using messages::failure;
using messages::make_failure;

namespace detail {

failure git_failure(int rc, std::string_view what) {
  const git_error* e = git_error_last();
  std::string msg{what};
  msg += ": ";
  if (e != nullptr && e->message != nullptr) {
    msg += e->message;
  } else {
    msg += "libgit2 error " + std::to_string(rc);
  }
  return make_failure(errc::git, std::move(msg));
}

messages::status check(int rc, std::string_view what) {
  if (rc < 0) {
    return git_failure(rc, what);
  }
  return messages::ok();
}

std::string to_hex(const git_oid& id) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &id);
  return buf;
}

messages::result<git_oid> from_hex(std::string_view hex) {
  git_oid id;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&id, hex.data(), hex.size()) < 0) {
    return make_failure(errc::git, "not a commit id: " + std::string{hex.substr(0, 64)});
  }
  return id;
}

// user.name and user.email, read once per workspace and process: git_signature_default
// re-checks three config files (a stat each) on every commit otherwise.
messages::result<signature_ptr> signature(git_repository* repo) {
  static std::mutex lock;
  static std::map<std::string, std::pair<std::string, std::string>> identities;
  std::pair<std::string, std::string> who;
  {
    std::lock_guard<std::mutex> guard{lock};
    auto key = std::string{git_repository_commondir(repo)};
    auto it = identities.find(key);
    if (it == identities.end()) {
      git_signature* configured = nullptr;
      std::pair<std::string, std::string> found{"grove", "grove@localhost"};
      if (git_signature_default(&configured, repo) == 0) {
        found = {configured->name, configured->email};
        git_signature_free(configured);
      }
      it = identities.emplace(key, std::move(found)).first;
    }
    who = it->second;
  }
  // The time and its offset as git_signature_now makes them, but through
  // localtime_r: git_signature_now's mktime re-reads /etc/localtime each call.
  time_t now = ::time(nullptr);
  struct tm local {};
  int offset_minutes = ::localtime_r(&now, &local) != nullptr ? static_cast<int>(local.tm_gmtoff / 60) : 0;
  git_signature* sig = nullptr;
  if (auto s = check(git_signature_new(&sig, who.first.c_str(), who.second.c_str(), now, offset_minutes), "signature");
      !s) {
    return s.error();
  }
  return signature_ptr{sig};
}

messages::result<commit_ptr> main_commit(git_repository* repo) {
  git_oid id;
  if (auto s = check(git_reference_name_to_id(&id, repo, main_ref), "resolve main"); !s) {
    return s.error();
  }
  git_commit* c = nullptr;
  if (auto s = check(git_commit_lookup(&c, repo, &id), "lookup main commit"); !s) {
    return s.error();
  }
  return commit_ptr{c};
}

} // namespace detail

using namespace detail;

namespace {

constexpr size_t object_cache_bytes = 32u << 20;

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // libgit2 checks that every id handed to an object or index write exists,
    // reading its header (an open + inflate per loose object): O(entries) per
    // worktree index and tree. grove only passes ids it just wrote or read.
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
    // Nor is every object read hashed again to prove its id (SHA-1 of each
    // tree read, ~7% of a build's instructions): git itself checks that only in
    // fsck, and grove checks what it writes (verify_stored) and runs fsck in its tests.
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    // Trees above 4 KiB are never cached by default, and output/components/
    // passes that at ~100 components: every lookup of it inflated it again.
    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, static_cast<size_t>(4) << 20);
    // The object caches of every handle share one budget (256 MiB by default):
    // with a growing components tree, each version of it cached per handle.
    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(object_cache_bytes));
  });
}

status ensure_excluded(const fs::path& gitdir) {
  std::error_code ec;
  fs::create_directories(gitdir / "info", ec);
  auto path = gitdir / "info" / "exclude";
  std::string current;
  if (std::ifstream in{path}; in) {
    std::stringstream buf;
    buf << in.rdbuf();
    current = buf.str();
  }
  std::string add;
  for (const char* line : {"/worktrees/", "/.grove/"}) {
    if (current.find(std::string{line} + "\n") == std::string::npos) {
      add += line;
      add += '\n';
    }
  }
  if (add.empty()) {
    return messages::ok();
  }
  auto fd = open_append_under(gitdir / "info", "exclude");
  if (!fd) return fd.error();
  std::string text;
  if (!current.empty() && current.back() != '\n') text += '\n';
  text.append("# grove: transient worktrees and runtime state\n").append(add);
  bool written = ::write(*fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(*fd);
  if (!written) return make_failure(errc::workspace, "cannot write " + path.string());
  return messages::ok();
}

status initial_commit(git_repository* repo) {
  git_treebuilder* tb = nullptr;
  if (auto s = check(git_treebuilder_new(&tb, repo, nullptr), "treebuilder"); !s) return s;
  git_oid tree_id;
  int rc = git_treebuilder_write(&tree_id, tb);
  git_treebuilder_free(tb);
  if (auto s = check(rc, "write empty tree"); !s) return s;
  git_tree* tree = nullptr;
  if (auto s = check(git_tree_lookup(&tree, repo, &tree_id), "lookup tree"); !s) return s;
  tree_ptr tree_guard{tree};
  auto sig = signature(repo);
  if (!sig) return sig.error();
  git_oid commit_id;
  return check(git_commit_create(&commit_id, repo, main_ref, sig->get(), sig->get(), nullptr,
                                 "grove: initialise workspace", tree, 0, nullptr),
               "initial commit");
}

} // namespace

namespace {

std::atomic<std::uint64_t> packs_generation{0};

} // namespace

void note_packs_removed() {
  packs_generation.fetch_add(1, std::memory_order_relaxed);
}

repository::repository(git_repository* repo, fs::path workdir)
  : repo_(repo), workdir_(std::move(workdir)), packs_generation_(packs_generation.load(std::memory_order_relaxed)) {}

repository::repository(repository&& other) noexcept
  : repo_(std::exchange(other.repo_, nullptr)),
    workdir_(std::move(other.workdir_)),
    packs_generation_(other.packs_generation_) {}

repository& repository::operator=(repository&& other) noexcept {
  if (this != &other) {
    if (repo_ != nullptr) git_repository_free(repo_);
    repo_ = std::exchange(other.repo_, nullptr);
    workdir_ = std::move(other.workdir_);
    packs_generation_ = other.packs_generation_;
  }
  return *this;
}

bool repository::outdated() const {
  return packs_generation_ != packs_generation.load(std::memory_order_relaxed);
}

repository::~repository() {
  if (repo_ != nullptr) git_repository_free(repo_);
}

fs::path repository::gitdir() const {
  return fs::path{git_repository_commondir(repo_)};
}

result<std::string> repository::main_head() const {
  git_oid id;
  if (auto s = check(git_reference_name_to_id(&id, repo_, main_ref), "resolve main"); !s) {
    return s.error();
  }
  return to_hex(id);
}

struct repository_pool_state {
  std::mutex lock;
  std::vector<repository> idle;
};

repository_pool::repository_pool(fs::path dir)
  : dir_(std::move(dir)), state_(std::make_unique<repository_pool_state>()) {}

repository_pool::~repository_pool() = default;

repository_pool::lease::~lease() {
  if (repo_ && pool_ != nullptr) pool_->give_back(std::move(*repo_));
}

result<repository_pool::lease> repository_pool::acquire() {
  {
    std::lock_guard<std::mutex> guard{state_->lock};
    if (!state_->idle.empty()) {
      auto repo = std::move(state_->idle.back());
      state_->idle.pop_back();
      return lease{this, std::move(repo)};
    }
  }
  auto opened = repository::open(dir_);
  if (!opened) return opened.error();
  return lease{this, std::move(*opened)};
}

void repository_pool::give_back(repository repo) {
  if (repo.outdated()) return; // freed: the next acquire opens a handle that knows the current packs
  std::lock_guard<std::mutex> guard{state_->lock};
  state_->idle.push_back(std::move(repo));
}

std::shared_ptr<repository_pool> repository_pool::of(const fs::path& dir) {
  static std::mutex lock;
  static std::map<fs::path, std::weak_ptr<repository_pool>> pools;
  std::lock_guard<std::mutex> guard{lock};
  auto& slot = pools[dir];
  if (auto p = slot.lock()) return p;
  auto p = std::make_shared<repository_pool>(dir);
  slot = p;
  return p;
}

result<repository> repository::open(const fs::path& dir) {
  init_library();
  git_repository* raw = nullptr;
  if (auto s = check(git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
                     "open repository " + dir.string());
      !s) {
    return s.error();
  }
  repo_ptr guard{raw};
  if (git_repository_is_bare(raw)) {
    return make_failure(errc::workspace, dir.string() + " is a bare repository; grove needs a working tree");
  }
  tune_odb(raw);
  fs::path workdir = git_repository_workdir(raw);
  return repository{guard.release(), workdir.lexically_normal()};
}

result<repository> repository::open_or_init(const fs::path& dir) {
  init_library();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_failure(errc::workspace, "cannot create workspace " + dir.string() + ": " + ec.message());
  }
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc == GIT_ENOTFOUND) {
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_MKPATH;
    opts.initial_head = "main";
    rc = git_repository_init_ext(&raw, dir.c_str(), &opts);
    if (auto s = check(rc, "init repository " + dir.string()); !s) return s.error();
  } else if (auto s = check(rc, "open repository " + dir.string()); !s) {
    return s.error();
  }
  repo_ptr guard{raw};
  if (git_repository_is_bare(raw)) {
    return make_failure(errc::workspace, dir.string() + " is a bare repository; grove needs a working tree");
  }
  // HEAD must be (or become) a symbolic ref to main: the integrator keeps that checkout in step.
  git_reference* head = nullptr;
  rc = git_reference_lookup(&head, raw, "HEAD");
  if (auto s = check(rc, "read HEAD"); !s) return s.error();
  reference_ptr head_guard{head};
  std::string target = git_reference_type(head) == GIT_REFERENCE_SYMBOLIC ? git_reference_symbolic_target(head)
                                                                          : std::string{"(detached)"};
  if (git_repository_head_unborn(raw) == 1) {
    if (target != main_ref) {
      if (auto s = check(git_repository_set_head(raw, main_ref), "point HEAD at main"); !s) return s.error();
    }
    if (auto s = initial_commit(raw); !s) return s.error();
  } else if (target != main_ref) {
    return make_failure(errc::workspace, "workspace " + dir.string() + " has HEAD on " + target +
                                           "; grove builds on main (git switch main)");
  }
  if (auto s = ensure_excluded(git_repository_commondir(raw)); !s) return s.error();
  tune_odb(raw);
  fs::path workdir = git_repository_workdir(raw);
  return repository{guard.release(), workdir.lexically_normal()};
}

result<std::string> read_file_at(repository& repo, const std::string& commit, const std::string& path) {
  auto id = from_hex(commit);
  if (!id) return id.error();
  git_commit* c = nullptr;
  if (auto s = check(git_commit_lookup(&c, repo.raw(), &*id), "lookup commit"); !s) return s.error();
  commit_ptr cg{c};
  git_tree* t = nullptr;
  if (auto s = check(git_commit_tree(&t, c), "read tree"); !s) return s.error();
  tree_ptr tg{t};
  git_tree_entry* e = nullptr;
  if (auto s = check(git_tree_entry_bypath(&e, t, path.c_str()), "find " + path); !s) return s.error();
  git_blob* b = nullptr;
  int rc = git_blob_lookup(&b, repo.raw(), git_tree_entry_id(e));
  git_tree_entry_free(e);
  if (auto s = check(rc, "read " + path); !s) return s.error();
  std::string out{static_cast<const char*>(git_blob_rawcontent(b)), static_cast<size_t>(git_blob_rawsize(b))};
  git_blob_free(b);
  return out;
}

namespace {

// "-<lane>" for lanes after the first. Appended, not `"-" + to_string(lane)`: GCC 12 warns
// about that at -O2 (a false -Wrestrict, GCC bug 105329).
std::string lane_suffix(uint32_t lane) {
  std::string out;
  if (lane > 0) out.append("-").append(std::to_string(lane));
  return out;
}

} // namespace

std::string branch_for(std::string_view component, uint32_t lane) {
  return std::string{"feat/"}.append(component).append("_gen").append(lane_suffix(lane));
}

std::string worktree_for(std::string_view component, uint32_t lane) {
  return std::string{"temp_"}.append(component).append(lane_suffix(lane));
}

std::string component_path(std::string_view component) {
  return "output/components/" + logic::library::file(component);
}

} // namespace grove::git
