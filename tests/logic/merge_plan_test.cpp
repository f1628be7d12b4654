// Which branches of a batch land together as octopus merges and which need a
// three-way merge: the rule, without a repository.

#include <gtest/gtest.h>

#include "logic/merge_plan.hpp"

using namespace grove::logic::merge;

namespace {

branch_diff own_file(const std::string& name) {
  return {{{"output/components/" + name + ".json", true, true}}, true};
}

} // namespace

TEST(merge_plan, branches_that_add_their_own_files_land_as_one_octopus) {
  auto plan = plan_batch({own_file("navbar"), own_file("footer"), own_file("hero")}, 48);
  ASSERT_EQ(plan.octopus.size(), 1u);
  EXPECT_EQ(plan.octopus[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(plan.three_way.empty());
}

TEST(merge_plan, a_file_main_changed_since_the_base_needs_a_three_way_merge) {
  auto edited = own_file("navbar");
  edited.files[0].main_unchanged = false;
  auto plan = plan_batch({own_file("footer"), edited}, 48);
  EXPECT_EQ(plan.octopus, (std::vector<std::vector<size_t>>{{0}}));
  EXPECT_EQ(plan.three_way, (std::vector<size_t>{1}));
}

TEST(merge_plan, a_second_branch_touching_a_taken_path_waits_for_a_three_way_merge) {
  auto plan = plan_batch({own_file("navbar"), own_file("navbar"), own_file("hero")}, 48);
  EXPECT_EQ(plan.octopus, (std::vector<std::vector<size_t>>{{0, 2}}));
  EXPECT_EQ(plan.three_way, (std::vector<size_t>{1}));
}

TEST(merge_plan, deletions_renames_and_unreadable_diffs_are_never_octopus_members) {
  auto deleted = own_file("navbar");
  deleted.files[0].added_or_modified = false;
  branch_diff unreadable;
  unreadable.readable = false;
  auto plan = plan_batch({deleted, unreadable, own_file("hero")}, 48);
  EXPECT_EQ(plan.octopus, (std::vector<std::vector<size_t>>{{2}}));
  EXPECT_EQ(plan.three_way, (std::vector<size_t>{0, 1}));
}

TEST(merge_plan, groups_hold_at_most_max_parents_in_batch_order) {
  std::vector<branch_diff> batch;
  for (char c = 'a'; c < 'h'; ++c) batch.push_back(own_file(std::string(1, c)));
  auto plan = plan_batch(batch, 3);
  EXPECT_EQ(plan.octopus, (std::vector<std::vector<size_t>>{{0, 1, 2}, {3, 4, 5}, {6}}));
  EXPECT_TRUE(plan_batch({}, 3).octopus.empty());
  EXPECT_EQ(plan_batch(batch, 0).octopus.size(), 7u) << "a limit of 0 is taken as 1";
}

TEST(merge_plan, a_branch_that_changes_nothing_joins_a_group) {
  auto plan = plan_batch({branch_diff{}, own_file("hero")}, 48);
  EXPECT_EQ(plan.octopus, (std::vector<std::vector<size_t>>{{0, 1}}));
}
