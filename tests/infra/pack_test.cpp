// Packing the workspace's loose objects (infra/git/pack.hpp) on real
// repositories, checked with the git CLI: nothing lost, packing beside
// merges, and a packer killed mid-pack.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "infra/git/git.hpp"
#include "infra/git/pack.hpp"
#include "support.hpp"

using namespace grove;
using grove::test::count_lines;
using grove::test::git_cli;
using grove::test::numbered;

namespace {

class packing : public ::testing::Test {
protected:
  std::filesystem::path root() const { return dir.path() / "ws"; }

  git::repository open() {
    auto r = git::repository::open_or_init(root());
    EXPECT_TRUE(r) << r.error().message;
    return std::move(*r);
  }

  // `n` components landed on main, `per_batch` at a time: loose blobs, trees and commits.
  void land(git::main_writer& writer, int from, int n, int per_batch) {
    for (int i = from; i < from + n; i += per_batch) {
      std::vector<git::merge_item> items;
      for (int j = i; j < std::min(from + n, i + per_batch); ++j) {
        auto name = numbered("c", j);
        auto wt = git::add_worktree(writer.repo(), name, {git::component_path(name)});
        ASSERT_TRUE(wt) << wt.error().message;
        auto id = git::commit_in_worktree(writer.repo(), *wt,
                                          {{git::component_path(name), "{\"n\":" + std::to_string(j) + "}"}}, "gen");
        ASSERT_TRUE(id) << id.error().message;
        items.push_back({name, *id});
      }
      for (auto& o : writer.merge_batch(items)) ASSERT_TRUE(o.ok()) << o.error;
      for (auto& it : items) ASSERT_TRUE(git::remove_worktree(writer.repo(), it.component));
    }
  }

  void expect_every_component_readable(int n) {
    auto listed = git_cli(root(), "ls-tree -r --name-only main output/components/").out;
    EXPECT_EQ(count_lines(listed), static_cast<size_t>(n));
    for (int j = 0; j < n; j += 7) {
      auto shown = git_cli(root(), "show main:" + git::component_path(numbered("c", j)));
      EXPECT_EQ(shown.out, "{\"n\":" + std::to_string(j) + "}") << j;
    }
  }

  grove::test::temp_dir dir;
};

} // namespace

TEST_F(packing, loose_objects_go_into_one_pack_and_nothing_is_lost) {
  git::main_writer writer{open()};
  land(writer, 0, 120, 8);
  auto gitdir = writer.repo().gitdir();
  auto loose = git::count_loose_objects(gitdir);
  EXPECT_GT(loose, 300u);
  auto below = git::pack_loose_objects(writer.repo(), loose + 1);
  ASSERT_TRUE(below);
  EXPECT_EQ(below->packed, 0u) << "below the threshold nothing is packed";
  auto r = git::pack_loose_objects(writer.repo(), 100);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->loose_before, loose);
  EXPECT_EQ(r->packed, loose);
  EXPECT_EQ(r->removed, loose);
  EXPECT_EQ(r->packs, 1u);
  EXPECT_EQ(git::count_loose_objects(gitdir), 0u);
  EXPECT_EQ(git_cli(root(), "count-objects -v").out.find("count: 0\n"), 0u) << git_cli(root(), "count-objects -v").out;
  // The same handle keeps working on packed objects: more merges land.
  land(writer, 120, 16, 8);
  expect_every_component_readable(136);
  EXPECT_EQ(git_cli(root(), "fsck --strict").status, 0) << git_cli(root(), "fsck --strict").out;
  // git gc --auto finds nothing to do (no "Auto packing" message, no new pack).
  auto gc = git_cli(root(), "-c gc.auto=6700 gc --auto");
  EXPECT_EQ(gc.status, 0);
  EXPECT_EQ(gc.out.find("Auto packing"), std::string::npos) << gc.out;
  grove::test::expect_clean_repository(root());
}

TEST_F(packing, packing_while_merges_land_loses_nothing) {
  git::main_writer writer{open()};
  land(writer, 0, 40, 8);
  std::atomic<bool> done{false};
  std::atomic<int> packs{0};
  std::thread packer{[&] {
    auto repo = git::repository::open(root()); // its own handle, as the packer actor has
    ASSERT_TRUE(repo);
    while (!done) {
      auto r = git::pack_loose_objects(*repo, 20);
      ASSERT_TRUE(r) << r.error().message;
      if (r->packed > 0) ++packs;
    }
  }};
  land(writer, 40, 200, 4);
  done = true;
  packer.join();
  EXPECT_GE(packs.load(), 2) << "packs were written while merges landed";
  expect_every_component_readable(240);
  // Every branch ref and every commit on main is valid.
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0) << git_cli(root(), "fsck --strict").out;
  EXPECT_EQ(git_cli(root(), "for-each-ref --format='%(objectname)'").status, 0);
  EXPECT_EQ(git_cli(root(), "rev-list --objects main").status, 0);
  grove::test::expect_clean_repository(root());
}

TEST_F(packing, a_packer_killed_mid_pack_leaves_a_repository_git_accepts_and_the_next_start_repairs) {
  {
    git::main_writer writer{open()};
    land(writer, 0, 200, 50);
  }
  // Many more loose blobs, so that the pack takes a while.
  {
    auto repo = open();
    for (int i = 0; i < 20000; ++i) {
      auto text = numbered("blob content that differs ", i) + std::string(200, 'x');
      git_oid id;
      ASSERT_EQ(git_blob_create_from_buffer(&id, repo.raw(), text.data(), text.size()), 0);
    }
  }
  auto gitdir = root() / ".git";
  auto before = git::count_loose_objects(gitdir);
  bool killed_mid_pack = false;
  for (int delay_ms : {150, 60, 300}) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto repo = git::repository::open(root());
      if (repo) (void)git::pack_loose_objects(*repo, 1);
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms});
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) {
      killed_mid_pack = true;
      break;
    }
  }
  ASSERT_TRUE(killed_mid_pack) << "the packer finished before it could be killed";
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0) << git_cli(root(), "fsck").out;
  expect_every_component_readable(200);
  // The next start removes the temporary files and packs again from scratch.
  git::remove_stale_pack_files(gitdir);
  bool temp_left = false;
  for (auto& e : std::filesystem::directory_iterator{gitdir / "objects" / "pack"}) {
    auto name = e.path().filename().string();
    if (name.rfind("pack_git2_", 0) == 0 || name.rfind("tmp_", 0) == 0) temp_left = true;
  }
  EXPECT_FALSE(temp_left);
  auto repo = open();
  auto r = git::pack_loose_objects(repo, 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(git::count_loose_objects(gitdir), 0u);
  EXPECT_LE(r->loose_before, before);
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0);
  expect_every_component_readable(200);
}

TEST_F(packing, many_packs_become_one_and_unreachable_objects_go) {
  git::main_writer writer{open()};
  // Packs written by something else than grove's geometric packing (git repack, an older grove): one per round.
  for (int round = 0; round < 5; ++round) {
    land(writer, round * 20, 20, 5);
    ASSERT_EQ(git_cli(root(), "repack -q -d").status, 0);
  }
  auto gitdir = writer.repo().gitdir();
  EXPECT_EQ(git::count_packs(gitdir), 5u);
  // An object no ref reaches (a dropped attempt's blob), packed with the rest.
  git_oid orphan;
  std::string text = "dropped attempt";
  ASSERT_EQ(git_blob_create_from_buffer(&orphan, writer.repo().raw(), text.data(), text.size()), 0);
  ASSERT_TRUE(git::pack_loose_objects(writer.repo(), 1));
  // A branch in flight keeps its objects.
  auto wt = git::add_worktree(writer.repo(), "inflight", {git::component_path("inflight")});
  ASSERT_TRUE(wt);
  auto id = git::commit_in_worktree(writer.repo(), *wt, {{git::component_path("inflight"), "{\"n\":-1}"}}, "gen");
  ASSERT_TRUE(id);
  auto r = git::repack_all(writer.repo());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(git::count_packs(gitdir), 1u);
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof(hex), &orphan);
  EXPECT_NE(git_cli(root(), std::string{"cat-file -e "} + hex).status, 0) << "the unreachable blob is gone";
  EXPECT_EQ(git_cli(root(), "show feat/inflight_gen:" + git::component_path("inflight")).out, "{\"n\":-1}");
  expect_every_component_readable(100);
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0) << git_cli(root(), "fsck --strict").out;
  ASSERT_TRUE(git::remove_worktree(writer.repo(), "inflight"));
  land(writer, 100, 10, 5); // the handle goes on working
  expect_every_component_readable(110);
}

TEST_F(packing, a_worktree_in_a_library_of_thousands_is_clean_and_holds_only_its_component) {
  git::main_writer writer{open()};
  std::vector<std::pair<std::string, std::string>> library;
  for (int j = 0; j < 3000; ++j) {
    library.emplace_back(git::component_path(numbered("c", j)), "{\"n\":" + std::to_string(j) + "}");
  }
  ASSERT_TRUE(writer.commit_files("a library of 3000", library));
  ASSERT_TRUE(git::pack_loose_objects(writer.repo(), 1)); // as the packer leaves it
  for (auto* name : {"c1234", "brand_new"}) {
    auto wt = git::add_worktree(writer.repo(), name, {git::component_path(name)});
    ASSERT_TRUE(wt) << wt.error().message;
    // As grove writes it, the index is git's sparse index: every other fan-out folder is one entry
    // (git expands it in memory, and writes it back whole once a git command refreshes it).
    auto index = grove::test::read_file(writer.repo().gitdir() / "worktrees" / ("temp_" + std::string{name}) / "index");
    ASSERT_GT(index.size(), 12u);
    EXPECT_EQ(index.substr(0, 4), "DIRC");
    auto entries = (static_cast<unsigned char>(index[8]) << 24) | (static_cast<unsigned char>(index[9]) << 16) |
                   (static_cast<unsigned char>(index[10]) << 8) | static_cast<unsigned char>(index[11]);
    EXPECT_LE(entries, 256 + 40) << "entries in the worktree's index";
    EXPECT_NE(index.find("sdir"), std::string::npos);
    // A git told to keep sparse indexes (cone patterns: grove writes the worktree's info/sparse-checkout) reads it as
    // is.
    auto sparse = git_cli(wt->dir,
                          "-c core.sparseCheckout=true -c core.sparseCheckoutCone=true -c index.sparse=true "
                          "ls-files --sparse output/components/")
                    .out;
    EXPECT_LE(count_lines(sparse), 256u + 40u) << "folders collapsed";
    EXPECT_GE(count_lines(sparse), 200u) << sparse.substr(0, 300);

    EXPECT_EQ(git_cli(wt->dir, "status --porcelain").out, "") << name;
    // On disk: the component's file (when main has it) and the .git file, nothing of the library.
    std::vector<std::string> present;
    for (auto& e : std::filesystem::recursive_directory_iterator{wt->dir}) {
      if (e.is_regular_file()) present.push_back(std::filesystem::relative(e.path(), wt->dir).string());
    }
    std::sort(present.begin(), present.end());
    if (std::string{name} == "c1234") {
      EXPECT_EQ(present, (std::vector<std::string>{".git", git::component_path("c1234")}));
    } else {
      EXPECT_EQ(present, std::vector<std::string>{".git"});
    }
    // Every other library file is in the index as git reads it, marked skip-worktree ("S").
    auto listed = git_cli(wt->dir, "ls-files -v output/components/").out;
    EXPECT_EQ(count_lines(listed), 3000u);
    size_t present_in_index = 0;
    for (size_t at = 0; (at = listed.find("H ", at)) != std::string::npos; at += 2) {
      if (at == 0 || listed[at - 1] == '\n') ++present_in_index;
    }
    EXPECT_EQ(present_in_index, std::string{name} == "c1234" ? 1u : 0u) << listed.substr(0, 400);
    auto id = git::commit_in_worktree(writer.repo(), *wt, {{git::component_path(name), "{\"n\":-1}"}}, "gen");
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(git_cli(wt->dir, "status --porcelain").out, "") << "clean after its commit too";
    ASSERT_TRUE(git::remove_worktree(writer.repo(), name));
  }
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0);
  EXPECT_EQ(git_cli(root(), "-c gc.auto=6700 gc --auto").out.find("Auto packing"), std::string::npos);
}

TEST_F(packing, a_link_planted_in_the_object_store_is_never_followed) {
  git::main_writer writer{open()};
  land(writer, 0, 10, 5);
  // Outside the workspace: a folder with a file named like a loose object, and a stale-looking pack temp.
  auto outside = dir.path() / "outside";
  std::filesystem::create_directories(outside);
  grove::test::write_file(outside / "01234567890123456789012345678901234567", "precious");
  grove::test::write_file(outside / "01234567890123456789012345678901234567x", "");
  grove::test::write_file(outside / "pack_git2_precious", "precious");
  auto gitdir = writer.repo().gitdir();
  std::filesystem::remove_all(gitdir / "objects" / "ff");
  std::filesystem::create_directory_symlink(outside, gitdir / "objects" / "ff");
  auto r = git::pack_loose_objects(writer.repo(), 1);
  ASSERT_TRUE(r) << r.error().message;
  // And the pack folder itself replaced by a link.
  auto pack = gitdir / "objects" / "pack";
  std::filesystem::rename(pack, gitdir / "objects" / "pack.real");
  std::filesystem::create_directory_symlink(outside, pack);
  EXPECT_EQ(git::remove_stale_pack_files(gitdir), 0u);
  EXPECT_EQ(grove::test::read_file(outside / "01234567890123456789012345678901234567"), "precious");
  EXPECT_EQ(grove::test::read_file(outside / "pack_git2_precious"), "precious");
}

TEST_F(packing, packs_roll_up_geometrically_and_other_handles_keep_reading) {
  git::main_writer writer{open()};
  // A handle opened before any packing that reads on throughout (as the repository pool's do).
  auto reader = open();
  size_t rolled = 0;
  for (int round = 0; round < 40; ++round) {
    land(writer, round * 10, 10, 5);
    auto r = git::pack_loose_objects(writer.repo(), 1);
    ASSERT_TRUE(r) << r.error().message;
    rolled += r->rolled;
    EXPECT_LE(r->packs, 8u) << "round " << round << ": packs stay O(log n)";
    // Every component landed so far is readable through the old handle, packs removed under it or not.
    for (int j = 0; j < (round + 1) * 10; j += 3) {
      auto text = git::read_file_at(reader, *writer.repo().main_head(), git::component_path(numbered("c", j)));
      ASSERT_TRUE(text) << "round " << round << ", c" << j << ": " << text.error().message;
      EXPECT_EQ(*text, "{\"n\":" + std::to_string(j) + "}");
    }
  }
  EXPECT_GE(rolled, 20u) << "small packs were rolled together";
  EXPECT_TRUE(reader.outdated()) << "long-lived holders learn to open a fresh handle";
  EXPECT_FALSE(open().outdated());
  expect_every_component_readable(400);
  EXPECT_EQ(git_cli(root(), "fsck --strict --no-dangling").status, 0) << git_cli(root(), "fsck --strict").out;
  EXPECT_EQ(git_cli(root(), "-c gc.auto=6700 gc --auto").out.find("Auto packing"), std::string::npos);
}
