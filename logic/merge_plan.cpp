#include "logic/merge_plan.hpp"

#include <algorithm>
#include <set>

namespace grove::logic::merge {

namespace {

bool fits_octopus(const branch_diff& b, const std::set<std::string>& taken) {
  if (!b.readable) return false;
  for (auto& f : b.files) {
    if (!f.added_or_modified || !f.main_unchanged || taken.count(f.path) != 0) return false;
  }
  return true;
}

} // namespace

batch_plan plan_batch(const std::vector<branch_diff>& branches, size_t max_parents) {
  batch_plan plan;
  std::set<std::string> taken;
  for (size_t i = 0; i < branches.size(); ++i) {
    if (!fits_octopus(branches[i], taken)) {
      plan.three_way.push_back(i);
      continue;
    }
    for (auto& f : branches[i].files) taken.insert(f.path);
    if (plan.octopus.empty() || plan.octopus.back().size() >= std::max<size_t>(1, max_parents)) {
      plan.octopus.emplace_back();
    }
    plan.octopus.back().push_back(i);
  }
  return plan;
}

} // namespace grove::logic::merge
