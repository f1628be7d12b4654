// Main's checkout skips libgit2's filters only when none could apply: an
// attributes file anywhere git looks, or core.autocrlf, keeps them on.

#include <gtest/gtest.h>

#include "infra/git/git.hpp"
#include "infra/git/raii.hpp"
#include "repository_fixture.hpp"
#include "support.hpp"

using namespace grove;
using grove::test::git_cli;

namespace {

const std::string lf_text = "{\n  \"a\": 1\n}\n";
const std::string crlf_text = "{\r\n  \"a\": 1\r\n}\r\n";

class checkout_filters : public test::repository_fixture {
protected:
  void commit_on_main(const std::string& rel, const std::string& content) {
    test::write_file(root() / rel, content);
    git_cli(root(), "add -- " + rel);
    git_cli(root(), "-c user.name=t -c user.email=t@t commit -qm attributes");
  }

  // Lands `nav` on main through a main_writer; main's working copy of it.
  std::string land_nav() {
    auto name = std::string{"nav"};
    auto wt = git::add_worktree(*repo, name, {git::component_path(name)});
    EXPECT_TRUE(wt) << wt.error().message;
    auto id = git::commit_in_worktree(*repo, *wt, {{git::component_path(name), lf_text}}, "gen");
    EXPECT_TRUE(id) << id.error().message;
    {
      git::main_writer writer{std::move(*repo)};
      EXPECT_TRUE(writer.merge_batch({{name, *id}})[0].ok());
      EXPECT_TRUE(git::remove_worktree(writer.repo(), name));
      repo.emplace(std::move(writer.repo()));
    }
    return test::read_file(root() / git::component_path(name));
  }

  bool may_apply() {
    git_commit* c = nullptr;
    git_tree* t = nullptr;
    auto head = repo->main_head();
    git_oid id;
    EXPECT_EQ(git_oid_fromstr(&id, head->c_str()), 0);
    EXPECT_EQ(git_commit_lookup(&c, repo->raw(), &id), 0);
    EXPECT_EQ(git_commit_tree(&t, c), 0);
    bool r = git::detail::filters_may_apply(repo->raw(), t, {git::component_path("nav")});
    git_tree_free(t);
    git_commit_free(c);
    return r;
  }
};

} // namespace

TEST_F(checkout_filters, without_attributes_the_blob_lands_as_it_is) {
  EXPECT_FALSE(may_apply());
  EXPECT_EQ(land_nav(), lf_text);
  EXPECT_EQ(git_cli(root(), "status --porcelain").out, "");
}

TEST_F(checkout_filters, a_tracked_attributes_file_converts_line_ends) {
  commit_on_main(".gitattributes", "*.json text eol=crlf\n");
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
  EXPECT_EQ(git_cli(root(), "status --porcelain").out, "");
}

TEST_F(checkout_filters, an_attributes_file_in_the_fan_out_folder_converts_line_ends) {
  auto folder = std::filesystem::path{git::component_path("nav")}.parent_path().string();
  commit_on_main(folder + "/.gitattributes", "nav.json text eol=crlf\n");
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
}

TEST_F(checkout_filters, an_untracked_attributes_file_in_a_folder_converts_line_ends) {
  test::write_file(root() / "output/.gitattributes", "*.json text eol=crlf\n");
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
}

TEST_F(checkout_filters, info_attributes_converts_line_ends) {
  test::write_file(root() / ".git/info/attributes", "*.json text eol=crlf\n");
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
}

TEST_F(checkout_filters, core_autocrlf_converts_line_ends) {
  git_cli(root(), "config core.autocrlf true");
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
}

TEST_F(checkout_filters, a_configured_attributes_file_converts_line_ends) {
  test::write_file(dir.path() / "attrs", "*.json text eol=crlf\n");
  git_cli(root(), "config core.attributesFile " + (dir.path() / "attrs").string());
  EXPECT_TRUE(may_apply());
  EXPECT_EQ(land_nav(), crlf_text);
}

TEST_F(checkout_filters, an_xdg_attributes_file_converts_line_ends) {
  test::write_file(dir.path() / "xdg/attributes", "*.json text eol=crlf\n");
  auto xdg = (dir.path() / "xdg").string();
  ASSERT_EQ(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, xdg.c_str()), 0);
  bool applies = may_apply();
  auto landed = land_nav();
  ASSERT_EQ(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, nullptr), 0); // back to the default
  EXPECT_TRUE(applies);
  EXPECT_EQ(landed, crlf_text);
}

TEST_F(checkout_filters, a_system_attributes_file_converts_line_ends) {
  test::write_file(dir.path() / "etc/gitattributes", "*.json text eol=crlf\n");
  auto etc = (dir.path() / "etc").string();
  ASSERT_EQ(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, etc.c_str()), 0);
  bool applies = may_apply();
  auto landed = land_nav();
  ASSERT_EQ(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, nullptr), 0);
  EXPECT_TRUE(applies);
  EXPECT_EQ(landed, crlf_text);
}
