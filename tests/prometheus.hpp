#pragma once

// A checker for the Prometheus text exposition format (version 0.0.4), written
// against the format's description rather than against grove's output:
//   - `# HELP name text` and `# TYPE name counter|gauge|histogram|summary|untyped`,
//     at most one of each per family, before the family's first sample;
//   - samples `name{label="value",...} value [timestamp]`: names match
//     [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not `__…`,
//     label values escape only \\, \" and \n, values are Go floats (+Inf, -Inf, NaN);
//   - a family's lines form one group; no series appears twice;
//   - histograms: every `_bucket` has an `le` parsed as a float, buckets rise in
//     `le` with non-decreasing counts, end in le="+Inf" equal to `_count`, and `_sum`
//     is present. grove's own extra rule: numbers in labels are the shortest text
//     that reads back as the same double (0.005, not 0.0050000000000000001).
// Returns the problems found (empty: the text is valid) and counts samples.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace grove::test {

struct prometheus_check {
  std::vector<std::string> problems;
  size_t samples = 0;
  std::map<std::string, std::string> types; ///< family -> type
};

namespace prometheus_detail {

inline bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

inline bool valid_name(const std::string& s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, colon)) return false;
  return true;
}

inline bool parse_float(const std::string& s, double& out) {
  if (s == "+Inf" || s == "Inf") return out = HUGE_VAL, true;
  if (s == "-Inf") return out = -HUGE_VAL, true;
  if (s == "NaN") return out = NAN, true;
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

inline std::string shortest(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  return ec == std::errc{} ? std::string(buf, end) : std::string{};
}

struct sample_line {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// Parses one sample line; an error text, or empty.
inline std::string parse_sample(const std::string& line, sample_line& out) {
  size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0, true)) ++i;
  out.name = line.substr(0, i);
  if (out.name.empty()) return "no metric name";
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && name_char(line[i], i == start, false)) ++i;
      auto label = line.substr(start, i - start);
      if (label.empty()) return "empty label name";
      if (label.rfind("__", 0) == 0) return "reserved label name " + label;
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return "label " + label + " without =\"";
      i += 2;
      std::string value;
      for (;; ++i) {
        if (i >= line.size()) return "unterminated value of label " + label;
        char c = line[i];
        if (c == '"') break;
        if (c == '\\') {
          if (++i >= line.size()) return "dangling escape";
          char e = line[i];
          if (e == 'n')
            value += '\n';
          else if (e == '\\' || e == '"')
            value += e;
          else
            return std::string{"bad escape \\"} + e;
        } else if (c == '\n') {
          return "raw newline in label value";
        } else {
          value += c;
        }
      }
      ++i; // closing quote
      for (auto& [k, v] : out.labels)
        if (k == label) return "label " + label + " twice";
      out.labels.emplace_back(label, value);
      if (i < line.size() && line[i] == ',') ++i;
      else if (i < line.size() && line[i] != '}') return "expected , or } after label " + label;
    }
    if (i >= line.size()) return "unterminated label set";
    ++i; // }
  }
  if (i >= line.size() || line[i] != ' ') return "no space before the value";
  ++i;
  auto rest = line.substr(i);
  auto sp = rest.find(' ');
  auto value = rest.substr(0, sp);
  if (!parse_float(value, out.value)) return "value is not a float: '" + value + "'";
  if (sp != std::string::npos) {
    auto ts = rest.substr(sp + 1);
    if (ts.empty()) return "trailing space";
    for (size_t k = 0; k < ts.size(); ++k)
      if (!(std::isdigit(static_cast<unsigned char>(ts[k])) || (k == 0 && ts[k] == '-'))) return "bad timestamp " + ts;
  }
  return {};
}

inline std::string series_key(const sample_line& s, const char* without = nullptr) {
  std::string key = s.name + "{";
  auto labels = s.labels;
  std::sort(labels.begin(), labels.end());
  for (auto& [k, v] : labels)
    if (!without || k != without) key += k + "=" + v + ",";
  return key + "}";
}

} // namespace prometheus_detail

inline prometheus_check check_prometheus_text(const std::string& text) {
  using namespace prometheus_detail;
  prometheus_check r;
  auto bad = [&](size_t n, const std::string& line, const std::string& why) {
    r.problems.push_back("line " + std::to_string(n) + ": " + why + ": " + line);
  };
  std::set<std::string> helped, closed, series;
  std::string current; // the family of the group being read
  struct histo {
    double last_le = -HUGE_VAL;
    double last_count = -1;
    double inf = -1, count = -1;
    bool sum = false;
  };
  std::map<std::string, histo> histos; // family + labels without le
  std::istringstream in{text};
  std::string line;
  size_t n = 0;
  auto enter = [&](const std::string& family, size_t ln, const std::string& l) {
    if (family == current) return;
    if (closed.count(family)) bad(ln, l, "family " + family + " is split into more than one group");
    if (!current.empty()) closed.insert(current);
    current = family;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words{line};
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) continue; // a plain comment
      if (!valid_name(name, true)) {
        bad(n, line, "bad metric name in " + kind);
        continue;
      }
      enter(name, n, line);
      if (kind == "HELP") {
        if (!helped.insert(name).second) bad(n, line, "second HELP for " + name);
        continue;
      }
      std::string type, extra;
      words >> type;
      if (words >> extra) bad(n, line, "text after the type");
      static const std::set<std::string> types{"counter", "gauge", "histogram", "summary", "untyped"};
      if (!types.count(type)) bad(n, line, "unknown type " + type);
      if (r.types.count(name)) bad(n, line, "second TYPE for " + name);
      if (closed.count(name) || series.lower_bound(name + "{") != series.lower_bound(name + "|"))
        bad(n, line, "TYPE after samples of " + name);
      r.types[name] = type;
      continue;
    }
    sample_line s;
    if (auto why = parse_sample(line, s); !why.empty()) {
      bad(n, line, why);
      continue;
    }
    ++r.samples;
    auto family = s.name;
    std::string suffix;
    for (const char* sfx : {"_bucket", "_sum", "_count"}) {
      std::string x = sfx;
      if (family.size() > x.size() && family.compare(family.size() - x.size(), x.size(), x) == 0) {
        auto base = family.substr(0, family.size() - x.size());
        if (r.types.count(base) && (r.types[base] == "histogram" || r.types[base] == "summary")) {
          family = base;
          suffix = x;
        }
      }
    }
    enter(family, n, line);
    if (!series.insert(series_key(s)).second) bad(n, line, "series appears twice");
    if (r.types.count(family) && r.types[family] == "histogram") {
      if (suffix.empty()) {
        bad(n, line, "histogram sample without _bucket/_sum/_count");
        continue;
      }
      auto& h = histos[family + series_key(s, "le").substr(s.name.size())];
      if (suffix == "_bucket") {
        std::string le;
        for (auto& [k, v] : s.labels)
          if (k == "le") le = v;
        double bound = 0;
        if (le.empty() || !parse_float(le, bound)) {
          bad(n, line, "bucket without a float le");
          continue;
        }
        if (le != "+Inf" && shortest(bound) != le) bad(n, line, "le \"" + le + "\" is not written as " + shortest(bound));
        if (bound <= h.last_le) bad(n, line, "buckets not in rising le order");
        if (s.value < h.last_count) bad(n, line, "bucket counts are not cumulative");
        h.last_le = bound;
        h.last_count = s.value;
        if (std::isinf(bound)) h.inf = s.value;
      } else if (suffix == "_count") {
        h.count = s.value;
      } else {
        h.sum = true;
      }
    }
  }
  for (auto& [key, h] : histos) {
    if (h.inf < 0) r.problems.push_back(key + ": no le=\"+Inf\" bucket");
    if (h.count < 0) r.problems.push_back(key + ": no _count");
    else if (h.inf >= 0 && h.inf != h.count) r.problems.push_back(key + ": +Inf bucket differs from _count");
    if (!h.sum) r.problems.push_back(key + ": no _sum");
  }
  return r;
}

} // namespace grove::test
