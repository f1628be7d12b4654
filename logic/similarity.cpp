#include "logic/similarity.hpp"

#include <algorithm>
#include <cmath>

namespace grove::logic::similarity {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na <= 0 || nb <= 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

std::vector<scored> nearest(const std::vector<float>& query, const std::vector<std::vector<float>>& candidates,
                            size_t limit, double min_score) {
  std::vector<scored> out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].size() != query.size()) continue;
    auto s = cosine(query, candidates[i]);
    if (s >= min_score && s > 0) out.push_back({i, s});
  }
  std::stable_sort(out.begin(), out.end(), [](const scored& x, const scored& y) { return x.score > y.score; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

} // namespace grove::logic::similarity
