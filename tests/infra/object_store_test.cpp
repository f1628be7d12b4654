// grove's own object and ref writing (tree_splice.cpp, branch_refs.cpp,
// recent_objects.cpp) checked against libgit2's and the git CLI's view.

#include <optional>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "repository_fixture.hpp"
#include "support.hpp"

using namespace grove;
using grove::test::git_cli;

namespace {

git_tree_update upsert(const char* path, const git_oid& id, git_filemode_t mode = GIT_FILEMODE_BLOB);

class object_store : public test::repository_fixture {
protected:
  git_repository* raw() { return repo->raw(); }

  git_oid blob(const std::string& text) {
    auto id = git::detail::store_object(raw(), GIT_OBJECT_BLOB, text.data(), text.size());
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : git_oid{};
  }
  git::detail::tree_ptr tree(const git_oid& id) {
    git_tree* t = nullptr;
    EXPECT_EQ(git_tree_lookup(&t, raw(), &id), 0);
    return git::detail::tree_ptr{t};
  }
  // A commit of a tree holding page.html on top of `parent_id`, written by grove's object writer.
  git_oid commit_page_on(const git_oid& parent_id, const std::string& message) {
    auto t = git::detail::splice_tree(raw(), nullptr, {upsert("page.html", blob("page"))});
    EXPECT_TRUE(t);
    auto sig = git::detail::signature(raw());
    EXPECT_TRUE(sig);
    git_commit* parent = nullptr;
    EXPECT_EQ(git_commit_lookup(&parent, raw(), &parent_id), 0);
    git::detail::commit_ptr pg{parent};
    auto c = git::detail::create_commit(raw(), sig->get(), message, tree(*t).get(), {parent});
    EXPECT_TRUE(c);
    return c ? *c : git_oid{};
  }
  std::filesystem::path loose_file(const git_oid& id) {
    auto hex = git::detail::to_hex(id);
    return root() / ".git/objects" / hex.substr(0, 2) / hex.substr(2);
  }
};

git_tree_update upsert(const char* path, const git_oid& id, git_filemode_t mode) {
  git_tree_update u{};
  u.action = GIT_TREE_UPDATE_UPSERT;
  u.path = path;
  u.id = id;
  u.filemode = mode;
  return u;
}

git_tree_update take_out(const char* path) {
  git_tree_update u{};
  u.action = GIT_TREE_UPDATE_REMOVE;
  u.path = path;
  return u;
}

} // namespace

TEST_F(object_store, a_spliced_tree_is_the_tree_libgit2_builds) {
  auto a = blob("a"), b = blob("b"), c = blob("c");
  // Names whose order differs between files and folders ("x" sorts as "x/"),
  // new nested folders, a replaced file, an executable, a link.
  std::vector<std::vector<git_tree_update>> rounds = {
    {upsert("x", a), upsert("x.y", b), upsert("x-y/z", c), upsert("deep/er/still/f.json", a)},
    {upsert("x.y", c), upsert("x-y/run", a, GIT_FILEMODE_BLOB_EXECUTABLE), upsert("x-y/ln", b, GIT_FILEMODE_LINK),
     take_out("x")},
    {take_out("deep/er/still/f.json"), upsert("output/components/ab/navbar.json", b)}, // deep/ becomes empty: gone
  };
  auto base = repo->main_head();
  ASSERT_TRUE(base);
  auto main_id = git::detail::from_hex(*base);
  git_commit* head = nullptr;
  ASSERT_EQ(git_commit_lookup(&head, raw(), &*main_id), 0);
  git::detail::commit_ptr head_guard{head};
  git_tree* t0 = nullptr;
  ASSERT_EQ(git_commit_tree(&t0, head), 0);
  git::detail::tree_ptr mine{t0}, theirs;
  git_tree* t1 = nullptr;
  ASSERT_EQ(git_commit_tree(&t1, head), 0);
  theirs.reset(t1);
  for (auto& updates : rounds) {
    auto spliced = git::detail::splice_tree(raw(), mine.get(), updates);
    ASSERT_TRUE(spliced) << spliced.error().message;
    git_oid expected;
    ASSERT_EQ(git_tree_create_updated(&expected, raw(), theirs.get(), updates.size(), updates.data()), 0)
      << git_error_last()->message;
    EXPECT_EQ(git::detail::to_hex(*spliced), git::detail::to_hex(expected));
    mine = tree(*spliced);
    theirs = tree(expected);
  }
  // Taking out what is not there changes nothing (libgit2 calls it an error).
  auto same = git::detail::splice_tree(raw(), mine.get(), {take_out("nothing/here"), take_out("x-y/absent")});
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(git::detail::to_hex(*same), git::detail::to_hex(*git_tree_id(mine.get())));
  EXPECT_EQ(git_cli(root(), "ls-tree -r --name-only " + git::detail::to_hex(*git_tree_id(mine.get()))).out,
            "output/components/ab/navbar.json\nx-y/ln\nx-y/run\nx-y/z\nx.y\n");
  EXPECT_EQ(git_cli(root(), "fsck --no-dangling").status, 0);
  // Hostile path components are refused, not written.
  for (auto bad : {"a/../b", "./x", ".git/config", ".GIT/hooks", "a//b"}) {
    EXPECT_FALSE(git::detail::splice_tree(raw(), mine.get(), {upsert(bad, a)})) << bad;
  }
}

TEST_F(object_store, a_recent_object_lost_on_disk_is_reported_and_written_again) {
  auto id = blob("content that vanishes");
  ASSERT_TRUE(std::filesystem::exists(loose_file(id)));
  git_odb* odb = nullptr;
  ASSERT_EQ(git_repository_odb(&odb, raw()), 0);
  git::detail::owned<git_odb, git_odb_free> guard{odb};
  EXPECT_TRUE(git::detail::stored_on_disk(odb, id));
  std::filesystem::remove(loose_file(id));
  EXPECT_FALSE(git::detail::stored_on_disk(odb, id)) << "memory is not the disk";
  git::detail::forget_recent_objects(raw());
  EXPECT_EQ(git::detail::to_hex(blob("content that vanishes")), git::detail::to_hex(id));
  EXPECT_TRUE(std::filesystem::exists(loose_file(id))) << "written again once forgotten";
  EXPECT_EQ(git_cli(root(), "cat-file -p " + git::detail::to_hex(id)).out, "content that vanishes");
}

TEST_F(object_store, branch_refs_are_locked_compared_and_seen_by_git) {
  auto main_hex = *repo->main_head();
  auto main_id = *git::detail::from_hex(main_hex);
  const std::string ref = "refs/heads/feat/navbar_gen";
  ASSERT_TRUE(git::detail::create_branch_ref(raw(), ref, main_id));
  EXPECT_EQ(git_cli(root(), "rev-parse feat/navbar_gen").out, main_hex + "\n");
  EXPECT_FALSE(git::detail::create_branch_ref(raw(), ref, main_id)) << "it exists";
  // A commit on it, moved only from the value it has.
  auto c = std::optional<git_oid>{commit_page_on(main_id, "a commit\n")};
  EXPECT_EQ(git::detail::move_branch_ref(raw(), ref, *c, *c, "wrong base"), GIT_EMODIFIED);
  EXPECT_EQ(git::detail::move_branch_ref(raw(), ref, *c, main_id, "commit"), 0);
  EXPECT_EQ(git_cli(root(), "rev-parse feat/navbar_gen").out, git::detail::to_hex(*c) + "\n");
  EXPECT_EQ(git_cli(root(), "log --format=%s -1 feat/navbar_gen").out, "a commit\n");
  // Somebody else's lock is respected.
  auto lock = root() / ".git/refs/heads/feat/navbar_gen.lock";
  test::write_file(lock, "");
  EXPECT_EQ(git::detail::move_branch_ref(raw(), ref, main_id, *c, "commit"), GIT_ELOCKED);
  EXPECT_FALSE(git::detail::delete_branch_ref(raw(), ref));
  EXPECT_TRUE(std::filesystem::exists(lock)) << "not ours to remove";
  std::filesystem::remove(lock);
  // Packed by git: read, moved and deleted through libgit2, and a create refused.
  ASSERT_EQ(git_cli(root(), "pack-refs --all").status, 0);
  ASSERT_FALSE(std::filesystem::exists(root() / ".git/refs/heads/feat/navbar_gen"));
  auto read = git::detail::read_branch_ref(raw(), ref);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(git::detail::to_hex(*read), git::detail::to_hex(*c));
  EXPECT_FALSE(git::detail::create_branch_ref(raw(), ref, main_id)) << "a packed ref exists too";
  EXPECT_EQ(git::detail::move_branch_ref(raw(), ref, main_id, *c, "back"), 0);
  EXPECT_EQ(git_cli(root(), "rev-parse feat/navbar_gen").out, main_hex + "\n");
  ASSERT_EQ(git_cli(root(), "pack-refs --all").status, 0);
  ASSERT_TRUE(git::detail::delete_branch_ref(raw(), ref));
  EXPECT_NE(git_cli(root(), "rev-parse --verify -q feat/navbar_gen").status, 0) << "gone from packed-refs too";
  EXPECT_TRUE(git::detail::delete_branch_ref(raw(), ref)) << "deleting a deleted branch is no error";
  EXPECT_EQ(git_cli(root(), "fsck --no-dangling").status, 0);
}

TEST_F(object_store, verify_stored_trusts_only_what_its_scope_wrote) {
  // A commit whose blob was written before the scope and then lost: found missing even inside a scope.
  auto old_blob = blob("written before the scope");
  auto empty_id = git::detail::store_object(raw(), GIT_OBJECT_TREE, "", 0);
  ASSERT_TRUE(empty_id);
  auto empty_tree = tree(*empty_id);
  auto sig = git::detail::signature(raw());
  ASSERT_TRUE(sig);
  auto commit_of = [&](const git_oid& b) {
    auto t = git::detail::splice_tree(raw(), empty_tree.get(), {upsert("f.json", b)});
    EXPECT_TRUE(t) << t.error().message;
    auto made = git::detail::create_commit(raw(), sig->get(), "c", tree(*t).get(), {});
    EXPECT_TRUE(made) << made.error().message;
    return *made;
  };
  std::filesystem::remove(loose_file(old_blob));
  git::detail::forget_recent_objects(raw()); // what an outside prune leaves: memory cannot vouch for it
  {
    git::detail::fresh_writes scope;
    auto c = commit_of(old_blob);
    auto s = git::detail::verify_stored(raw(), c, {"f.json"});
    EXPECT_FALSE(s) << "the lost blob was not written in this scope";
    // Everything written in the scope is trusted: nothing on disk is asked for it.
    auto fresh_blob = blob("written in the scope");
    auto c2 = commit_of(fresh_blob);
    EXPECT_TRUE(scope.has(fresh_blob) && scope.has(c2));
    EXPECT_FALSE(scope.has(old_blob));
    EXPECT_TRUE(git::detail::verify_stored(raw(), c2, {"f.json"}));
  }
  EXPECT_EQ(git::detail::fresh_writes::current(), nullptr) << "the scope ends with its block";
}

TEST_F(object_store, main_moves_with_its_reflogs_as_git_writes_them) {
  auto main_hex = *repo->main_head();
  auto main_id = *git::detail::from_hex(main_hex);
  auto c = std::optional<git_oid>{commit_page_on(main_id, "next\n")};
  auto sig = git::detail::signature(raw());
  ASSERT_TRUE(sig);
  auto c_hex = git::detail::to_hex(*c);
  auto entries = [&](const char* ref) { return git_cli(root(), std::string{"reflog show "} + ref).out; };
  auto before = entries("main");
  EXPECT_EQ(git::detail::advance_main(raw(), *c, main_id, "wrong base"), GIT_EMODIFIED);
  auto lock = root() / ".git/refs/heads/main.lock";
  test::write_file(lock, "");
  EXPECT_EQ(git::detail::advance_main(raw(), main_id, *c, "locked"), GIT_ELOCKED);
  EXPECT_TRUE(std::filesystem::exists(lock)) << "not ours to remove";
  std::filesystem::remove(lock);
  EXPECT_EQ(entries("main"), before) << "a refused move logs nothing";
  // Moved, with one line in main's reflog and HEAD's, as git reads them.
  ASSERT_EQ(git::detail::advance_main(raw(), main_id, *c, "grove: merge\n2 component(s)"), 0);
  EXPECT_EQ(git_cli(root(), "rev-parse main").out, c_hex + "\n");
  for (const char* ref : {"main", "HEAD"}) {
    EXPECT_EQ(git_cli(root(), std::string{"log -g -1 --format=%H,%gs,%gn,%ge "} + ref).out,
              c_hex + ",grove: merge 2 component(s)," + sig->get()->name + "," + sig->get()->email + "\n")
      << ref;
  }
  EXPECT_EQ(git_cli(root(), "rev-parse main@{1}").out, main_hex + "\n");
  // Packed by git: libgit2 moves it, and logs it.
  ASSERT_EQ(git_cli(root(), "pack-refs --all").status, 0);
  ASSERT_FALSE(std::filesystem::exists(root() / ".git/refs/heads/main"));
  ASSERT_EQ(git::detail::advance_main(raw(), *c, main_id, "back"), 0);
  EXPECT_EQ(git_cli(root(), "rev-parse main").out, main_hex + "\n");
  EXPECT_EQ(git_cli(root(), "log -g -1 --format=%gs main").out, "back\n");
  EXPECT_EQ(git_cli(root(), "fsck --no-dangling").status, 0);
}
