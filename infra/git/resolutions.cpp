#include "infra/git/resolutions.hpp"

#include <fstream>
#include <iterator>

#include <git2.h>
#include <nlohmann/json.hpp>

#include "infra/git/files.hpp"

namespace grove::git {

namespace {

constexpr const char* folder = ".grove/resolutions";

// The component without "version", in one canonical spelling; empty when not an object.
std::string canonical(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return {};
  doc.erase("version");
  return doc.dump();
}

bool is_key(const std::string& key) {
  return key.size() == GIT_OID_HEXSZ && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

std::string conflict_key(std::string_view base, std::string_view ours, std::string_view theirs) {
  auto b = canonical(base), o = canonical(ours), t = canonical(theirs);
  if (b.empty() || o.empty() || t.empty()) return {};
  if (t < o) std::swap(o, t);
  std::string all = "grove conflict 1\n" + std::to_string(b.size()) + "\n" + b + std::to_string(o.size()) + "\n" + o +
                    std::to_string(t.size()) + "\n" + t;
  static const int initialised = git_libgit2_init(); // hashing needs no repository, but libgit2 set up
  (void)initialised;
  git_oid id;
  if (git_odb_hash(&id, all.data(), all.size(), GIT_OBJECT_BLOB) < 0) return {};
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &id);
  return hex;
}

std::optional<std::string> recall_resolution(const std::filesystem::path& workspace, const std::string& key) {
  if (!is_key(key)) return std::nullopt;
  auto rel = std::string{folder} + "/" + key + ".json";
  if (!require_real_parents(workspace, {rel})) return std::nullopt;
  std::error_code ec;
  auto file = workspace / rel;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(file, ec))) return std::nullopt;
  std::ifstream in{file, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (canonical(text).empty()) return std::nullopt; // damaged: as if never remembered
  return text;
}

messages::status remember_resolution(const std::filesystem::path& workspace, const std::string& key,
                                     std::string_view resolved) {
  if (!is_key(key)) return messages::make_failure(messages::errc::io, "not a conflict key: " + key);
  return write_file_under(workspace, std::string{folder} + "/" + key + ".json", resolved);
}

} // namespace grove::git
