#include "messages/secrets.hpp"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace grove::messages {

namespace {

unsigned char lower(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'A' && u <= 'Z') ? static_cast<unsigned char>(u - 'A' + 'a') : u;
}

// The `secret_fragment` characters at `p`, lower-cased, as one integer.
uint64_t gram(const char* p) {
  static_assert(secret_fragment == 8, "a fragment is packed into 64 bits");
  uint64_t g = 0;
  for (size_t i = 0; i < secret_fragment; ++i) g = (g << 8) | lower(p[i]);
  return g;
}

bool equal_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// Marks every character of `text` that belongs to a leak; returns whether any does.
bool mark(std::string_view text, const std::vector<std::string>& secrets, std::vector<bool>& hit) {
  hit.assign(text.size(), false);
  bool any = false;
  for (auto& s : secrets) {
    if (s.size() < 4) continue;
    if (s.size() < secret_fragment) {
      for (size_t i = 0; i + s.size() <= text.size(); ++i) {
        if (equal_ci(text.substr(i, s.size()), s)) {
          std::fill(hit.begin() + static_cast<long>(i), hit.begin() + static_cast<long>(i + s.size()), true);
          any = true;
        }
      }
      continue;
    }
    if (text.size() < secret_fragment) continue;
    std::unordered_set<uint64_t> grams;
    for (size_t j = 0; j + secret_fragment <= s.size(); ++j) grams.insert(gram(s.data() + j));
    for (size_t i = 0; i + secret_fragment <= text.size(); ++i) {
      if (grams.count(gram(text.data() + i)) != 0) {
        std::fill(hit.begin() + static_cast<long>(i), hit.begin() + static_cast<long>(i + secret_fragment), true);
        any = true;
      }
    }
  }
  return any;
}

struct registry {
  std::shared_mutex mtx;
  std::vector<std::string> secrets;
};

registry& global() {
  static registry r;
  return r;
}

} // namespace

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<bool> hit;
  if (!mark(text, secrets, hit)) return std::string{text};
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (!hit[i]) {
      out += text[i++];
      continue;
    }
    out += "[redacted]";
    while (i < text.size() && hit[i]) ++i;
  }
  return out;
}

bool contains_secret(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<bool> hit;
  return mark(text, secrets, hit);
}

void register_secret(std::string secret) {
  if (secret.empty()) return;
  auto& r = global();
  std::unique_lock lock{r.mtx};
  if (std::find(r.secrets.begin(), r.secrets.end(), secret) == r.secrets.end()) r.secrets.push_back(std::move(secret));
}

std::vector<std::string> registered_secrets() {
  auto& r = global();
  std::shared_lock lock{r.mtx};
  return r.secrets;
}

std::string redact(std::string_view text) {
  auto& r = global();
  std::shared_lock lock{r.mtx};
  if (r.secrets.empty()) return std::string{text};
  return redact(text, r.secrets);
}

} // namespace grove::messages
