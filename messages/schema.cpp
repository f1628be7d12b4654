#include "messages/schema.hpp"

#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace grove::messages {

namespace embedded {
extern const char* const plan_schema;
extern const char* const component_schema;
extern const char* const review_schema;
} // namespace embedded

namespace {

using json = nlohmann::json;

const std::set<std::string> supported_keywords = {
  "$schema", "$id",      "title",         "description", "type",      "required", "properties", "additionalProperties",
  "items",   "minItems", "maxItems",      "minLength",   "maxLength", "pattern",  "enum",       "const",
  "minimum", "maximum",  "uniqueItemsBy",
};

// Length in code points, as JSON Schema counts it; bytes of invalid UTF-8 count one each.
size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    return v.is_number_integer() ||
           (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
  }
  throw std::invalid_argument("unknown type in schema: " + type);
}

const std::regex& compiled(const std::string& pattern) {
  static std::mutex mtx;
  static std::map<std::string, std::regex> cache;
  std::lock_guard<std::mutex> guard{mtx};
  auto i = cache.find(pattern);
  if (i == cache.end()) {
    i = cache.emplace(pattern, std::regex{pattern, std::regex::ECMAScript}).first;
  }
  return i->second;
}

std::string describe(const json& v) {
  auto s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

struct validator {
  std::vector<std::string> errors;

  void fail(const std::string& path, const std::string& what) {
    errors.push_back((path.empty() ? "/" : path) + ": " + what);
  }

  void check(const json& v, const json& s, const std::string& path) {
    if (!s.is_object()) {
      throw std::invalid_argument("schema at " + path + " is not an object");
    }
    for (auto& [key, _] : s.items()) {
      if (!supported_keywords.count(key)) {
        throw std::invalid_argument("unsupported schema keyword: " + key);
      }
    }
    if (auto t = s.find("type"); t != s.end()) {
      bool match = false;
      if (t->is_array()) {
        for (auto& one : *t) match = match || has_type(v, one.get<std::string>());
      } else {
        match = has_type(v, t->get<std::string>());
      }
      if (!match) {
        fail(path, "expected " + t->dump() + ", got " + std::string{v.type_name()});
        return;
      }
    }
    if (auto e = s.find("enum"); e != s.end()) {
      bool found = false;
      for (auto& one : *e) found = found || one == v;
      if (!found) fail(path, describe(v) + " is not one of " + e->dump());
    }
    if (auto c = s.find("const"); c != s.end() && *c != v) {
      fail(path, "must be " + c->dump());
    }
    if (v.is_string()) check_string(v.get_ref<const std::string&>(), s, path);
    if (v.is_number()) check_number(v.get<double>(), s, path);
    if (v.is_object()) check_object(v, s, path);
    if (v.is_array()) check_array(v, s, path);
  }

  void check_string(const std::string& str, const json& s, const std::string& path) {
    auto len = utf8_length(str);
    if (auto m = s.find("minLength"); m != s.end() && len < m->get<size_t>()) {
      fail(path, "shorter than " + m->dump() + " characters");
    }
    if (auto m = s.find("maxLength"); m != s.end() && len > m->get<size_t>()) {
      fail(path, "longer than " + m->dump() + " characters");
    }
    if (auto p = s.find("pattern"); p != s.end()) {
      if (!std::regex_search(str, compiled(p->get<std::string>()))) {
        fail(path, describe(json(str)) + " does not match " + p->get<std::string>());
      }
    }
  }

  void check_number(double x, const json& s, const std::string& path) {
    if (auto m = s.find("minimum"); m != s.end() && x < m->get<double>()) {
      fail(path, "less than " + m->dump());
    }
    if (auto m = s.find("maximum"); m != s.end() && x > m->get<double>()) {
      fail(path, "greater than " + m->dump());
    }
  }

  void check_object(const json& v, const json& s, const std::string& path) {
    if (auto r = s.find("required"); r != s.end()) {
      for (auto& key : *r) {
        if (!v.contains(key.get<std::string>())) {
          fail(path, "missing required property \"" + key.get<std::string>() + "\"");
        }
      }
    }
    auto props = s.find("properties");
    auto extra = s.find("additionalProperties");
    for (auto& [key, value] : v.items()) {
      auto sub = path + "/" + key;
      if (props != s.end() && props->contains(key)) {
        check(value, (*props)[key], sub);
      } else if (extra != s.end()) {
        if (extra->is_boolean()) {
          if (!extra->get<bool>()) fail(sub, "property not allowed");
        } else {
          check(value, *extra, sub);
        }
      }
    }
  }

  void check_array(const json& v, const json& s, const std::string& path) {
    if (auto m = s.find("minItems"); m != s.end() && v.size() < m->get<size_t>()) {
      fail(path, "fewer than " + m->dump() + " items");
    }
    if (auto m = s.find("maxItems"); m != s.end() && v.size() > m->get<size_t>()) {
      fail(path, "more than " + m->dump() + " items");
    }
    if (auto items = s.find("items"); items != s.end()) {
      for (size_t i = 0; i < v.size(); ++i) {
        check(v[i], *items, path + "/" + std::to_string(i));
      }
    }
    if (auto by = s.find("uniqueItemsBy"); by != s.end()) {
      auto key = by->get<std::string>();
      std::set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].is_object() && v[i].contains(key)) {
          auto id = v[i][key].dump();
          if (!seen.insert(id).second) {
            fail(path + "/" + std::to_string(i), "duplicate " + key + " " + id);
          }
        }
      }
    }
  }
};

const json& parsed_schema(schema_id id) {
  static const json plan = json::parse(embedded::plan_schema);
  static const json component = json::parse(embedded::component_schema);
  static const json review = json::parse(embedded::review_schema);
  return id == schema_id::plan ? plan : id == schema_id::review ? review : component;
}

} // namespace

std::string_view schema_text(schema_id id) {
  switch (id) {
    case schema_id::plan: return embedded::plan_schema;
    case schema_id::review: return embedded::review_schema;
    case schema_id::component: break;
  }
  return embedded::component_schema;
}

std::vector<std::string> validate(const nlohmann::json& doc, const nlohmann::json& schema) {
  validator v;
  v.check(doc, schema, "");
  return std::move(v.errors);
}

std::vector<std::string> validate(const nlohmann::json& doc, schema_id id) {
  return validate(doc, parsed_schema(id));
}

} // namespace grove::messages
