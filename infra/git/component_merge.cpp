#include "infra/git/component_merge.hpp"

#include <algorithm>

#include <git2.h>
#include <nlohmann/json.hpp>

#include "infra/git/raii.hpp"
#include "messages/codec.hpp"
#include "messages/names.hpp"

namespace grove::git {

using json = nlohmann::json;
using messages::errc;
using messages::make_failure;

namespace {

// Whether every line of `base` is in `side`, in order: `side` only added lines.
bool only_adds(std::string_view base, std::string_view side) {
  auto b = messages::split(base, '\n');
  auto s = messages::split(side, '\n');
  size_t j = 0;
  for (auto& line : b) {
    while (j < s.size() && s[j] != line) ++j;
    if (j == s.size()) return false;
    ++j;
  }
  return true;
}

void merge_value(const std::string& key, const json& base, const json& ours, const json& theirs, json& out,
                 component_merge& m) {
  if (ours == theirs || theirs == base) {
    out = ours;
    return;
  }
  if (ours == base) {
    out = theirs;
    return;
  }
  // Both changed it, differently.
  if ((key == "html" || key == "css") && ours.is_string() && theirs.is_string()) {
    auto b = base.is_string() ? base.get<std::string>() : std::string{};
    auto o = ours.get<std::string>(), t = theirs.get<std::string>();
    if (auto lines = merge_lines(b, o, t); lines.clean) {
      out = lines.text;
      return;
    }
    if (only_adds(b, o) && only_adds(b, t)) {
      auto both = merge_lines(b, o, t, true);
      if (both.clean) {
        out = both.text;
        m.kept_both_insertions = true;
        return;
      }
    }
    m.conflicts.push_back(key);
    return;
  }
  if (ours.is_object() && theirs.is_object()) {
    out = json::object();
    auto b = base.is_object() ? base : json::object();
    std::vector<std::string> keys;
    for (const json* side : std::initializer_list<const json*>{&b, &ours, &theirs}) {
      for (auto& [k, _] : side->items()) {
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      }
    }
    for (auto& k : keys) {
      json v;
      merge_value(key + "." + k, b.value(k, json{}), ours.value(k, json{}), theirs.value(k, json{}), v, m);
      if (!v.is_null()) out[k] = v;
    }
    return;
  }
  m.conflicts.push_back(key);
}

} // namespace

line_merge merge_lines(std::string_view base, std::string_view ours, std::string_view theirs, bool union_of_both) {
  static const int initialised = git_libgit2_init(); // no repository need be open: libgit2's allocator must be
  (void)initialised;
  git_merge_file_input b = GIT_MERGE_FILE_INPUT_INIT, o = GIT_MERGE_FILE_INPUT_INIT, t = GIT_MERGE_FILE_INPUT_INIT;
  b.ptr = base.data();
  b.size = base.size();
  o.ptr = ours.data();
  o.size = ours.size();
  t.ptr = theirs.data();
  t.size = theirs.size();
  git_merge_file_options opts = GIT_MERGE_FILE_OPTIONS_INIT;
  if (union_of_both) opts.favor = GIT_MERGE_FILE_FAVOR_UNION;
  git_merge_file_result r{};
  line_merge out;
  if (git_merge_file(&r, &b, &o, &t, &opts) == 0) {
    out.clean = r.automergeable != 0;
    if (out.clean) out.text.assign(r.ptr, r.len);
  }
  git_merge_file_result_free(&r);
  return out;
}

messages::result<component_merge> merge_component(std::string_view base, std::string_view ours,
                                                  std::string_view theirs) {
  auto parse = [](std::string_view text, const char* which) -> messages::result<json> {
    auto doc = json::parse(text, nullptr, false);
    if (!doc.is_object()) return make_failure(errc::invalid_json, std::string{which} + " is not a component");
    return doc;
  };
  auto b = parse(base, "the base version");
  if (!b) return b.error();
  auto o = parse(ours, "our version");
  if (!o) return o.error();
  auto t = parse(theirs, "their version");
  if (!t) return t.error();
  component_merge m;
  json out = json::object();
  std::vector<std::string> keys;
  for (auto* side : {&*o, &*t, &*b}) {
    for (auto& [k, _] : side->items()) {
      if (k != "version" && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
  for (auto& k : keys) {
    json v;
    merge_value(k, b->value(k, json{}), o->value(k, json{}), t->value(k, json{}), v, m);
    if (!v.is_null()) out[k] = v;
  }
  out["version"] = std::max(o->value("version", 0), t->value("version", 0));
  if (m.clean()) m.text = messages::component_to_text(out);
  return m;
}

} // namespace grove::git
