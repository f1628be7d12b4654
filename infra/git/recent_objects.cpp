#include "infra/git/recent_objects.hpp"

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include <git2/sys/odb_backend.h>

namespace grove::git::detail {

namespace {

using clock = std::chrono::steady_clock;

struct oid_hash {
  size_t operator()(const git_oid& id) const {
    size_t h;
    std::memcpy(&h, id.id, sizeof(h)); // a SHA-1 is as good a hash as any
    return h;
  }
};
struct oid_equal {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b) != 0; }
};

std::mutex registry_lock;
std::map<std::string, std::weak_ptr<recent_objects>>& registry() {
  static auto* r = new std::map<std::string, std::weak_ptr<recent_objects>>; // outlives static destruction
  return *r;
}

} // namespace

struct recent_objects::state {
  struct entry {
    git_object_t type;
    std::string data;
    clock::time_point at;
  };
  std::mutex lock;
  std::unordered_map<git_oid, entry, oid_hash, oid_equal> entries;
  std::deque<git_oid> order; // oldest first
  size_t bytes = 0;

  void drop_oldest() {
    auto it = entries.find(order.front());
    if (it != entries.end()) {
      bytes -= it->second.data.size();
      entries.erase(it);
    }
    order.pop_front();
  }
  // The live entry for `id`, or null; expired entries at the front go.
  entry* find(const git_oid& id) {
    auto now = clock::now();
    while (!order.empty()) {
      auto front = entries.find(order.front());
      if (front != entries.end() && now - front->second.at < ttl) break;
      drop_oldest();
    }
    auto it = entries.find(id);
    return it == entries.end() ? nullptr : &it->second;
  }
};

recent_objects::recent_objects(std::unique_ptr<state> s) : s_(std::move(s)) {}
recent_objects::~recent_objects() = default;

std::shared_ptr<recent_objects> recent_objects::of(const std::string& objects_dir) {
  std::lock_guard<std::mutex> guard{registry_lock};
  auto& slot = registry()[objects_dir];
  if (auto alive = slot.lock()) return alive;
  auto made = std::make_shared<recent_objects>(std::make_unique<state>());
  slot = made;
  for (auto it = registry().begin(); it != registry().end();) { // closed repositories' slots
    it = it->second.expired() ? registry().erase(it) : std::next(it);
  }
  return made;
}

void recent_objects::forget(const std::string& objects_dir) {
  std::shared_ptr<recent_objects> alive;
  {
    std::lock_guard<std::mutex> guard{registry_lock};
    auto it = registry().find(objects_dir);
    if (it != registry().end()) alive = it->second.lock();
  }
  if (alive) alive->clear();
}

void recent_objects::clear() {
  std::lock_guard<std::mutex> guard{s_->lock};
  s_->entries.clear();
  s_->order.clear();
  s_->bytes = 0;
}

void recent_objects::remember(const git_oid& id, git_object_t type, const void* data, size_t len) {
  if (len > max_object) return;
  std::lock_guard<std::mutex> guard{s_->lock};
  auto [it, fresh] = s_->entries.try_emplace(id);
  if (!fresh) return; // the same id is the same content
  it->second.type = type;
  it->second.data.assign(static_cast<const char*>(data), len);
  it->second.at = clock::now();
  s_->order.push_back(id);
  s_->bytes += len;
  while (s_->bytes > max_bytes && !s_->order.empty()) s_->drop_oldest();
}

bool recent_objects::read(const git_oid& id, git_odb_backend* backend, void** buf, size_t* len, git_object_t* type) {
  std::lock_guard<std::mutex> guard{s_->lock};
  auto* e = s_->find(id);
  if (e == nullptr) return false;
  void* out = git_odb_backend_data_alloc(backend, e->data.size());
  if (out == nullptr) return false;
  std::memcpy(out, e->data.data(), e->data.size());
  *buf = out;
  *len = e->data.size();
  *type = e->type;
  return true;
}

bool recent_objects::header(const git_oid& id, size_t* len, git_object_t* type) {
  std::lock_guard<std::mutex> guard{s_->lock};
  auto* e = s_->find(id);
  if (e == nullptr) return false;
  *len = e->data.size();
  *type = e->type;
  return true;
}

bool recent_objects::has(const git_oid& id) {
  std::lock_guard<std::mutex> guard{s_->lock};
  return s_->find(id) != nullptr;
}

} // namespace grove::git::detail
