// The git layer on real temporary repositories, checked with the git CLI.

#include <gtest/gtest.h>

#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "repository_fixture.hpp"
#include "support.hpp"

using namespace grove;
using grove::test::count_lines;
using grove::test::git_cli;
using grove::test::numbered;

namespace {

class git_layer : public test::repository_fixture {
protected:
  std::string commit_component(const std::string& name, const std::string& content) {
    auto wt = git::add_worktree(*repo, name, {git::component_path(name)});
    EXPECT_TRUE(wt) << wt.error().message;
    auto id = git::commit_in_worktree(*repo, *wt, {{git::component_path(name), content}}, "gen " + name);
    EXPECT_TRUE(id) << id.error().message;
    return *id;
  }

  void expect_clean_repository() { test::expect_clean_repository(root()); }

  // Lands navbar through a main_writer, then writes the record a checkout
  // leaves while it runs (as if grove was killed during it).
  git::main_writer land_navbar_with_checkout_record() {
    auto id = commit_component("navbar", "v1 of the navbar");
    auto before = repo->main_head();
    git::main_writer writer{std::move(*repo)};
    EXPECT_TRUE(writer.merge_batch({{"navbar", id}})[0].ok());
    EXPECT_TRUE(git::remove_worktree(writer.repo(), "navbar"));
    test::write_file(root() / ".grove/checkout", *before + "\n");
    return writer;
  }

};

} // namespace

TEST_F(git_layer, init_creates_main_with_a_commit_and_excludes) {
  EXPECT_EQ(git_cli(root(), "symbolic-ref HEAD").out, "refs/heads/main\n");
  EXPECT_EQ(count_lines(git_cli(root(), "log --oneline").out), 1u);
  auto exclude = test::read_file(root() / ".git" / "info" / "exclude");
  EXPECT_NE(exclude.find("/worktrees/\n"), std::string::npos);
  EXPECT_NE(exclude.find("/.grove/\n"), std::string::npos);
  // Opening again changes nothing and adds no duplicate excludes.
  auto again = git::repository::open_or_init(root());
  ASSERT_TRUE(again);
  EXPECT_EQ(count_lines(git_cli(root(), "log --oneline").out), 1u);
  EXPECT_EQ(test::read_file(root() / ".git" / "info" / "exclude"), exclude);
  expect_clean_repository();
}

TEST_F(git_layer, refuses_a_workspace_on_another_branch) {
  git_cli(root(), "checkout -q -b other");
  auto r = git::repository::open_or_init(root());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("refs/heads/other"), std::string::npos);
}

TEST_F(git_layer, worktree_lifecycle_commit_merge_prune) {
  auto wt = git::add_worktree(*repo, "login_form", {git::component_path("login_form")});
  ASSERT_TRUE(wt) << wt.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(root() / "worktrees" / "temp_login_form"));
  EXPECT_EQ(git_cli(root(), "branch --list 'feat/*' --format='%(refname:short)'").out, "feat/login_form_gen\n");
  auto c1 = git::commit_in_worktree(*repo, *wt, {{git::component_path("login_form"), "{\"v\":1}"}}, "attempt 1");
  ASSERT_TRUE(c1) << c1.error().message;
  auto c2 = git::commit_in_worktree(*repo, *wt, {{git::component_path("login_form"), "{\"v\":2}"}}, "attempt 2");
  ASSERT_TRUE(c2);
  EXPECT_EQ(test::read_file(wt->dir / git::component_path("login_form")), "{\"v\":2}");
  EXPECT_EQ(git_cli(wt->dir, "status --porcelain").out, "");
  EXPECT_EQ(count_lines(git_cli(root(), "log --oneline feat/login_form_gen").out), 3u);

  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch({{"login_form", *c2}});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(test::read_file(root() / git::component_path("login_form")), "{\"v\":2}");
  EXPECT_EQ(git_cli(root(), "rev-parse HEAD").out, out[0].merge_commit + "\n");
  EXPECT_EQ(git_cli(root(), "rev-parse HEAD^2").out, *c2 + "\n");
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "login_form"));
  EXPECT_FALSE(std::filesystem::exists(root() / "worktrees" / "temp_login_form"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, merges_many_branches_in_one_batch) {
  std::vector<git::merge_item> items;
  for (int i = 0; i < 60; ++i) {
    auto name = numbered("comp", i);
    items.push_back({name, commit_component(name, "{\"i\":" + std::to_string(i) + "}")});
  }
  auto before = git_cli(root(), "reflog show main").out;
  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch(items);
  for (auto& o : out) EXPECT_TRUE(o.ok()) << o.component << ": " << o.error;
  // Octopus merges (`git merge a b c ...`) of at most 48 branches each: 48 + 12.
  EXPECT_EQ(count_lines(git_cli(root(), "log --merges --oneline").out), 2u);
  EXPECT_EQ(count_lines(git_cli(root(), "rev-list --parents -n1 main").out), 1u);
  EXPECT_EQ(git_cli(root(), "rev-list --parents -n1 main").out.size(), 41u * 14) << "main~1 and 12 branches";
  EXPECT_EQ(git_cli(root(), "rev-list --parents -n1 main~1").out.size(), 41u * 50) << "the old main and 48 branches";
  for (auto& i : items) {
    // Each branch is merged exactly once, named in its merge commit's message.
    EXPECT_EQ(count_lines(git_cli(root(), "log --oneline --grep='^grove: merge " + i.component + "$' main").out), 1u);
    EXPECT_EQ(git_cli(root(), "merge-base --is-ancestor " + i.commit + " main").status, 0);
  }
  EXPECT_EQ(count_lines(git_cli(root(), "ls-tree -r --name-only main output/components/").out), 60u);
  EXPECT_EQ(out[0].merge_commit, out[47].merge_commit);
  EXPECT_NE(out[47].merge_commit, out[48].merge_commit);
  // One ref update for the whole batch.
  EXPECT_EQ(count_lines(git_cli(root(), "reflog show main").out), count_lines(before) + 1);
  for (auto& i : items) ASSERT_TRUE(git::remove_worktree(writer.repo(), i.component));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, main_worktree_stays_clean_across_merges_and_commits) {
  git::main_writer writer{std::move(*repo)};
  for (int round = 0; round < 3; ++round) {
    auto name = numbered("c", round);
    auto wt = git::add_worktree(writer.repo(), name, {git::component_path(name)});
    ASSERT_TRUE(wt);
    auto id = git::commit_in_worktree(writer.repo(), *wt, {{git::component_path(name), "x"}}, "gen");
    ASSERT_TRUE(id);
    ASSERT_TRUE(writer.merge_batch({{name, *id}})[0].ok());
    ASSERT_TRUE(git::remove_worktree(writer.repo(), name));
    auto page = writer.commit_files("compose", {{"output/builder_output.html", numbered("page ", round)}});
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(git_cli(root(), "status --porcelain").out, "") << "round " << round;
    EXPECT_EQ(test::read_file(root() / "output/builder_output.html"), numbered("page ", round));
  }
  auto same = writer.commit_files("compose", {{"output/builder_output.html", "page 2"}});
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, "") << "identical content must not create a commit";
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, an_updated_component_merges_over_the_old_one) {
  auto first = commit_component("nav", "old");
  git::main_writer writer{std::move(*repo)};
  ASSERT_TRUE(writer.merge_batch({{"nav", first}})[0].ok());
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "nav"));
  auto wt = git::add_worktree(writer.repo(), "nav", {git::component_path("nav")});
  ASSERT_TRUE(wt);
  EXPECT_EQ(test::read_file(wt->dir / git::component_path("nav")), "old") << "the component's own file is checked out";
  auto second = git::commit_in_worktree(writer.repo(), *wt, {{git::component_path("nav"), "new"}}, "again");
  ASSERT_TRUE(second);
  ASSERT_TRUE(writer.merge_batch({{"nav", *second}})[0].ok());
  EXPECT_EQ(test::read_file(root() / git::component_path("nav")), "new");
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "nav"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, only_the_component_file_is_checked_out) {
  test::write_file(root() / "big" / "a.txt", "a");
  git_cli(root(), "add -A");
  git_cli(root(), "-c user.name=t -c user.email=t@t commit -qm big");
  auto wt = git::add_worktree(*repo, "solo", {git::component_path("solo")});
  ASSERT_TRUE(wt);
  EXPECT_FALSE(std::filesystem::exists(wt->dir / "big" / "a.txt"));
  auto id = git::commit_in_worktree(*repo, *wt, {{git::component_path("solo"), "s"}}, "gen");
  ASSERT_TRUE(id);
  // The commit still carries every file of main: nothing is deleted by the sparse checkout.
  EXPECT_EQ(git_cli(root(), "show " + *id + ":big/a.txt").out, "a");
  // To git itself it is an ordinary worktree on its branch, clean (big/a.txt is skip-worktree).
  EXPECT_EQ(git_cli(wt->dir, "status --porcelain").out, "");
  EXPECT_EQ(git_cli(wt->dir, "rev-parse --abbrev-ref HEAD").out, "feat/solo_gen\n");
  EXPECT_EQ(git_cli(wt->dir, "ls-files -v big/a.txt").out, "S big/a.txt\n");
  EXPECT_NE(git_cli(root(), "worktree list --porcelain").out.find("branch refs/heads/feat/solo_gen"),
            std::string::npos);
  EXPECT_EQ(git_cli(root(), "worktree prune --dry-run -v").out, "") << "git sees nothing to prune";
  ASSERT_TRUE(git::remove_worktree(*repo, "solo"));
}

TEST_F(git_layer, stale_worktrees_and_branches_are_removed_after_a_crash) {
  // A run that died mid-way: two registered worktrees with commits, ...
  commit_component("alpha", "a");
  commit_component("beta", "b");
  // ... a half-created worktree (what a failed git_worktree_add leaves), ...
  std::filesystem::create_directories(root() / "worktrees" / "temp_half" / "output");
  std::filesystem::create_directories(root() / ".git" / "worktrees" / "temp_half");
  test::write_file(root() / ".git" / "worktrees" / "temp_half" / "gitdir", "garbage");
  // ... and a branch whose worktree is already gone.
  git_cli(root(), "branch feat/orphan_gen");
  ASSERT_EQ(count_lines(git_cli(root(), "branch --list 'feat/*'").out), 3u);

  auto report = git::remove_stale(*repo);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->worktrees.size(), 2u);
  EXPECT_EQ(report->branches.size(), 3u);
  EXPECT_GE(report->directories.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(root() / "worktrees" / "temp_half"));
  EXPECT_FALSE(std::filesystem::exists(root() / ".git" / "worktrees" / "temp_half"));
  expect_clean_repository();
  // The same names can be used again.
  EXPECT_TRUE(git::add_worktree(*repo, "alpha", {}));
  ASSERT_TRUE(git::remove_worktree(*repo, "alpha"));
  // Nothing left: a second sweep finds nothing.
  auto again = git::remove_stale(*repo);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_F(git_layer, invalid_names_never_reach_a_path_or_ref) {
  for (auto bad : {"../x", "a b", "$(rm)", "", "A", "x/y"}) {
    auto wt = git::add_worktree(*repo, bad, {});
    ASSERT_FALSE(wt) << bad;
    EXPECT_EQ(wt.error().code, messages::errc::invalid_name);
    EXPECT_FALSE(git::remove_worktree(*repo, bad));
  }
  expect_clean_repository();
}

TEST_F(git_layer, an_existing_branch_fails_cleanly) {
  git_cli(root(), "branch feat/dup_gen");
  auto wt = git::add_worktree(*repo, "dup", {});
  ASSERT_FALSE(wt);
  EXPECT_FALSE(std::filesystem::exists(root() / "worktrees" / "temp_dup"));
  git_cli(root(), "branch -D feat/dup_gen");
  expect_clean_repository();
}

TEST_F(git_layer, merging_an_unknown_commit_is_an_error_for_that_item_only) {
  auto good = commit_component("good", "g");
  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch({{"bad", std::string(40, 'f')}, {"good", good}, {"junk", "nothex"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].ok());
  EXPECT_TRUE(out[1].ok()) << out[1].error;
  EXPECT_FALSE(out[2].ok());
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "good"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, repair_undoes_what_a_killed_writer_leaves) {
  auto writer = land_navbar_with_checkout_record();
  // Killed between the ref update and the checkout: the record of the
  // checkout is on disk, index and files lag behind main, the file half written ...
  ASSERT_EQ(git_cli(root(), "read-tree HEAD~1").status, 0);
  test::write_file(root() / git::component_path("navbar"), "v1 of the n");
  // ... and lock files of writers that never finished.
  test::write_file(root() / ".git/index.lock", "");
  test::write_file(root() / ".git/refs/heads/feat/ghost_gen.lock", "");
  ASSERT_NE(git_cli(root(), "status --porcelain").out, "");
  auto done = git::repair_workspace(writer.repo());
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_GE(done->size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(root() / ".git/index.lock"));
  EXPECT_FALSE(std::filesystem::exists(root() / ".git/refs/heads/feat/ghost_gen.lock"));
  EXPECT_FALSE(std::filesystem::exists(root() / ".grove/checkout"));
  EXPECT_EQ(test::read_file(root() / git::component_path("navbar")), "v1 of the navbar");
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
  auto again = git::repair_workspace(*repo);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty()) << "a clean workspace needs no repair";
}

TEST_F(git_layer, repair_never_touches_changes_grove_did_not_make) {
  auto writer = land_navbar_with_checkout_record();
  // Even with a checkout record naming navbar.json as grove's, content that is
  // neither version nor a beginning of main's is the user's; so is a stray file.
  test::write_file(root() / git::component_path("navbar"), "my own navbar");
  test::write_file(root() / "output/stray.tmp", "x");
  auto done = git::repair_workspace(writer.repo());
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find(git::component_path("navbar") + " (modified)"), std::string::npos)
    << done.error().message;
  EXPECT_NE(done.error().message.find("output/stray.tmp (untracked)"), std::string::npos) << done.error().message;
  EXPECT_EQ(test::read_file(root() / git::component_path("navbar")), "my own navbar");
  EXPECT_EQ(test::read_file(root() / "output/stray.tmp"), "x");
  // The update of main goes on; the user's file is left alone and the lag reported.
  auto other = git::repository::open(root());
  ASSERT_TRUE(other);
  repo.emplace(std::move(*other));
  auto second = commit_component("footer", "v1 of the footer");
  ASSERT_TRUE(writer.merge_batch({{"footer", second}})[0].ok());
  EXPECT_EQ(test::read_file(root() / git::component_path("navbar")), "my own navbar");
  EXPECT_EQ(test::read_file(root() / git::component_path("footer")), "v1 of the footer");
  EXPECT_NE(writer.last_sync_error().find("navbar.json (modified)"), std::string::npos) << writer.last_sync_error();
}

TEST_F(git_layer, a_file_changed_on_both_sides_is_a_real_merge_not_an_overwrite) {
  auto first = commit_component("nav", "v1");
  git::main_writer writer{std::move(*repo)};
  auto base = writer.repo().main_head();
  ASSERT_TRUE(writer.merge_batch({{"nav", first, *base}})[0].ok());
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "nav"));
  // Two branches from the same main both rewrite nav.json: the second to land conflicts.
  auto start = writer.repo().main_head();
  auto a = git::add_worktree(writer.repo(), "nav", {git::component_path("nav")});
  ASSERT_TRUE(a);
  auto ca = git::commit_in_worktree(writer.repo(), *a, {{git::component_path("nav"), "from a"}}, "a");
  auto other = git::repository::open(root());
  ASSERT_TRUE(other);
  // The second branch is made by hand on the same base (names are per component).
  ASSERT_EQ(git_cli(root(), "branch feat/other_gen " + *start).status, 0);
  ASSERT_EQ(git_cli(root(), "worktree add -q worktrees/temp_other feat/other_gen").status, 0);
  test::write_file(root() / "worktrees/temp_other" / git::component_path("nav"), "from b");
  ASSERT_EQ(git_cli(root() / "worktrees/temp_other", "-c user.name=t -c user.email=t@t commit -qam b").status, 0);
  auto cb = git_cli(root() / "worktrees/temp_other", "rev-parse HEAD").out;
  cb.pop_back();
  ASSERT_TRUE(writer.merge_batch({{"nav", *ca, *start}})[0].ok());
  auto second = writer.merge_batch({{"other", cb, *start}});
  ASSERT_FALSE(second[0].ok()) << "main changed nav.json since the base: no silent overwrite";
  EXPECT_TRUE(second[0].stale) << "refused for a rebase (the job's structural merge), never git's text merge";
  EXPECT_NE(second[0].error.find("main changed " + git::component_path("nav")), std::string::npos) << second[0].error;
  EXPECT_EQ(test::read_file(root() / git::component_path("nav")), "from a");
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "nav"));
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "other"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, a_failed_checkout_of_main_is_caught_up_by_the_next_update) {
  auto nav = commit_component("navbar", "v1");
  auto hero = commit_component("hero", "h1");
  git::main_writer writer{std::move(*repo)};
  // The index cannot be written (as on a full disk: here another writer holds its lock).
  test::write_file(root() / ".git/index.lock", "");
  ASSERT_TRUE(writer.merge_batch({{"navbar", nav}})[0].ok()) << "main moves even if the checkout cannot follow";
  EXPECT_NE(writer.last_sync_error(), "");
  std::filesystem::remove(root() / ".git/index.lock");
  // The next update of main brings all of output/ in step, not only its own paths.
  ASSERT_TRUE(writer.merge_batch({{"hero", hero}})[0].ok());
  EXPECT_EQ(writer.last_sync_error(), "");
  EXPECT_EQ(test::read_file(root() / git::component_path("navbar")), "v1");
  EXPECT_EQ(test::read_file(root() / git::component_path("hero")), "h1");
  // resync() alone does the same after a failure.
  test::write_file(root() / ".git/index.lock", "");
  ASSERT_TRUE(writer.commit_files("compose", {{"output/builder_output.html", "page"}}));
  EXPECT_NE(writer.last_sync_error(), "");
  std::filesystem::remove(root() / ".git/index.lock");
  ASSERT_TRUE(writer.resync());
  EXPECT_EQ(writer.last_sync_error(), "");
  EXPECT_EQ(test::read_file(root() / "output/builder_output.html"), "page");
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "navbar"));
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "hero"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, two_branches_changing_one_file_in_one_batch_do_not_both_land) {
  auto start = repo->main_head();
  ASSERT_TRUE(start);
  auto a = commit_component("nav", "from a");
  ASSERT_EQ(git_cli(root(), "branch feat/other_gen " + *start).status, 0);
  ASSERT_EQ(git_cli(root(), "worktree add -q worktrees/temp_other feat/other_gen").status, 0);
  test::write_file(root() / "worktrees/temp_other" / git::component_path("nav"), "from b");
  ASSERT_EQ(git_cli(root() / "worktrees/temp_other", "add -A").status, 0);
  ASSERT_EQ(git_cli(root() / "worktrees/temp_other", "-c user.name=t -c user.email=t@t commit -qm b").status, 0);
  auto b = git_cli(root() / "worktrees/temp_other", "rev-parse HEAD").out;
  b.pop_back();
  auto hero = commit_component("hero", "h");
  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch({{"nav", a, *start}, {"other", b, *start}, {"hero", hero, *start}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_FALSE(out[1].ok()) << "the second writer of nav.json must be rebased over the first";
  EXPECT_TRUE(out[1].stale) << out[1].error;
  EXPECT_TRUE(out[2].ok()) << out[2].error;
  EXPECT_EQ(out[0].merge_commit, out[2].merge_commit) << "nav and hero land in one octopus merge";
  EXPECT_EQ(test::read_file(root() / git::component_path("nav")), "from a");
  EXPECT_EQ(test::read_file(root() / git::component_path("hero")), "h");
  for (auto* n : {"nav", "other", "hero"}) ASSERT_TRUE(git::remove_worktree(writer.repo(), n));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, main_never_points_at_an_object_the_database_lost) {
  // libgit2 1.5 can report a loose object written when the disk filled under it.
  // Simulated by deleting the component's blob after its branch commit.
  auto id = commit_component("lost", "content that vanishes");
  auto blob = git_cli(root(), "rev-parse " + id + ":" + git::component_path("lost")).out;
  blob.pop_back();
  std::filesystem::remove(root() / ".git/objects" / blob.substr(0, 2) / blob.substr(2));
  auto before = git_cli(root(), "rev-parse main").out;
  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch({{"lost", id}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok());
  EXPECT_NE(out[0].error.find("lost"), std::string::npos) << out[0].error;
  EXPECT_EQ(git_cli(root(), "rev-parse main").out, before) << "main did not move";
  auto page = writer.commit_files("compose", {{"output/builder_output.html", "page"}});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "lost"));
  EXPECT_EQ(git_cli(root(), "fsck --no-dangling").status, 0) << "no ref or reflog names a missing object";
}

TEST_F(git_layer, a_link_planted_for_a_fan_out_folder_is_never_written_through) {
  auto outside = dir.path() / "outside";
  std::filesystem::create_directories(outside);
  test::write_file(outside / "keep.txt", "precious");
  auto id = commit_component("navbar", "v1");
  // After grove checked its folders, the navbar's fan-out folder becomes a link out of the workspace.
  auto shard = (root() / git::component_path("navbar")).parent_path();
  std::filesystem::create_directories(shard.parent_path());
  std::filesystem::create_directory_symlink(outside, shard);
  git::main_writer writer{std::move(*repo)};
  auto out = writer.merge_batch({{"navbar", id}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(writer.last_sync_error().find("symbolic link"), std::string::npos) << writer.last_sync_error();
  EXPECT_FALSE(std::filesystem::exists(outside / "navbar.json")) << "nothing written through the link";
  EXPECT_EQ(test::read_file(outside / "keep.txt"), "precious");
  EXPECT_TRUE(std::filesystem::is_symlink(shard));
  // The link is the user's to remove; then the next sync brings output/ to main.
  std::filesystem::remove(shard);
  ASSERT_TRUE(writer.resync());
  EXPECT_EQ(test::read_file(root() / git::component_path("navbar")), "v1");
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "navbar"));
  repo.emplace(std::move(writer.repo()));
  expect_clean_repository();
}

TEST_F(git_layer, a_flat_library_moves_into_fan_out_folders_once_and_other_files_stay) {
  // A workspace of an earlier grove: components at output/components/<name>.json, and a file of the user's.
  for (auto name : {"navbar", "footer", "login_form"}) {
    test::write_file(root() / "output/components" / (std::string{name} + ".json"),
                     "{\"component\": \"" + std::string{name} + "\", \"html\": \"<nav></nav>\"}");
  }
  test::write_file(root() / "output/components/draft.json", "{\"draft\": true}");
  test::write_file(root() / "output/components/notes.txt", "mine");
  ASSERT_EQ(git_cli(root(), "add output").status, 0);
  ASSERT_EQ(git_cli(root(), "-c user.name=u -c user.email=u@x commit -qm old-layout").status, 0);
  auto moved = git::migrate_flat_library(*repo);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(*moved, 3u);
  for (auto name : {"navbar", "footer", "login_form"}) {
    EXPECT_FALSE(std::filesystem::exists(root() / "output/components" / (std::string{name} + ".json"))) << name;
    EXPECT_NE(test::read_file(root() / git::component_path(name)).find(name), std::string::npos) << name;
  }
  EXPECT_EQ(test::read_file(root() / "output/components/draft.json"), "{\"draft\": true}");
  EXPECT_EQ(test::read_file(root() / "output/components/notes.txt"), "mine");
  EXPECT_EQ(git_cli(root(), "log -1 --format=%s").out,
            "grove: move the library into fan-out folders (output/components/<xx>/<name>.json)\n");
  auto again = git::migrate_flat_library(*repo);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u) << "nothing left to move";
  expect_clean_repository();
}

TEST_F(git_layer, tree_changes_match_git_diff) {
  git::main_writer writer{std::move(*repo)};
  auto v1 = writer.commit_files("v1", {{git::component_path("navbar"), "n1"},
                                       {git::component_path("footer"), "f1"},
                                       {"output/components/x/deep/file.txt", "d1"},
                                       {"output/a", "a file"}});
  ASSERT_TRUE(v1) << v1.error().message;
  auto v2 = writer.commit_files(
    "v2", {{git::component_path("navbar"), "n2"}, {git::component_path("hero"), "h1"}, {"output/c/b", "a new folder"}},
    {git::component_path("footer"), "output/a"});
  ASSERT_TRUE(v2) << v2.error().message;
  auto tree_of = [&](const std::string& hex) {
    git_oid id;
    git_oid_fromstr(&id, hex.c_str());
    git_commit* c = nullptr;
    EXPECT_EQ(git_commit_lookup(&c, writer.repo().raw(), &id), 0);
    git_tree* t = nullptr;
    EXPECT_EQ(git_commit_tree(&t, c), 0);
    git_commit_free(c);
    return t;
  };
  git_tree* a = tree_of(*v1);
  git_tree* b = tree_of(*v2);
  auto changes = git::detail::tree_changes(writer.repo().raw(), a, b);
  ASSERT_TRUE(changes);
  std::string mine;
  for (auto& c : *changes) mine += std::string{c.added() ? "A" : c.deleted() ? "D" : "M"} + "\t" + c.path + "\n";
  EXPECT_EQ(mine, git_cli(root(), "diff --no-renames --name-status " + *v1 + " " + *v2).out);
  auto none = git::detail::tree_changes(writer.repo().raw(), a, a);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  git_tree_free(a);
  git_tree_free(b);
  repo.emplace(std::move(writer.repo()));
}
