#include <gtest/gtest.h>

#include "messages/names.hpp"

using grove::messages::errc;
using grove::messages::is_valid_name;
using grove::messages::normalise_name;

namespace {

std::string norm(std::string_view raw) {
  auto r = normalise_name(raw);
  return r ? *r : std::string{"<rejected>"};
}

} // namespace

TEST(names, plain_names_are_kept) {
  EXPECT_EQ(norm("login_form"), "login_form");
  EXPECT_EQ(norm("chart2"), "chart2");
}

TEST(names, case_and_separators_are_normalised) {
  EXPECT_EQ(norm("Login Form"), "login_form");
  EXPECT_EQ(norm("a b"), "a_b");
  EXPECT_EQ(norm("data-table"), "data_table");
  EXPECT_EQ(norm("  nav   bar  "), "nav_bar");
  EXPECT_EQ(norm("__x__"), "x");
}

TEST(names, path_traversal_never_survives) {
  EXPECT_EQ(norm("../x"), "x");
  EXPECT_EQ(norm("../../etc/passwd"), "etc_passwd");
  EXPECT_EQ(norm("/abs/path"), "abs_path");
  EXPECT_EQ(norm("a/../b"), "a_b");
  EXPECT_EQ(norm(".."), "<rejected>");
  EXPECT_EQ(norm("."), "<rejected>");
}

TEST(names, shell_characters_never_survive) {
  EXPECT_EQ(norm("$(rm)"), "rm");
  EXPECT_EQ(norm("`rm -rf /`"), "rm_rf");
  EXPECT_EQ(norm("a;b|c&d"), "a_b_c_d");
  EXPECT_EQ(norm("x\ny"), "x_y");
  EXPECT_EQ(norm(std::string{"nul\0byte", 8}), "nul_byte");
  EXPECT_EQ(norm("'\"*?<>"), "<rejected>");
}

TEST(names, empty_is_rejected_with_a_clear_error) {
  auto r = normalise_name("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_name);
  EXPECT_NE(r.error().message.find("no ASCII letters or digits"), std::string::npos);
}

TEST(names, long_names_are_cut_to_48) {
  std::string raw(200, 'a');
  auto r = norm(raw);
  EXPECT_EQ(r.size(), 48u);
  EXPECT_TRUE(is_valid_name(r));
  // A cut that would end on a separator drops it.
  std::string tricky = std::string(47, 'b') + " c";
  EXPECT_EQ(norm(tricky), std::string(47, 'b'));
}

TEST(names, unicode_becomes_separators_or_is_rejected) {
  EXPECT_EQ(norm("대시보드"), "<rejected>");
  EXPECT_EQ(norm("café menu"), "caf_menu");
  EXPECT_EQ(norm("login 로그인 form"), "login_form");
  EXPECT_EQ(norm("\xff\xfe"), "<rejected>");
}

TEST(names, every_normalised_name_is_valid) {
  for (auto raw : {"../x", "a b", "$(rm)", "X", "0", "a__b", "Ünïcödé"}) {
    auto r = normalise_name(raw);
    if (r) {
      EXPECT_TRUE(is_valid_name(*r)) << raw;
    }
  }
}

TEST(names, validity_check_is_strict) {
  EXPECT_TRUE(is_valid_name("a_1"));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name("A"));
  EXPECT_FALSE(is_valid_name("a-b"));
  EXPECT_FALSE(is_valid_name("a/b"));
  EXPECT_FALSE(is_valid_name(std::string(49, 'a')));
}

TEST(names, utf8_helpers_repair_and_cut_safely) {
  EXPECT_EQ(grove::messages::sanitize_utf8("ok 한글"), "ok 한글");
  EXPECT_EQ(grove::messages::sanitize_utf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(grove::messages::truncate_utf8("한글abc", 2), "한글");
  EXPECT_EQ(grove::messages::truncate_utf8("abc", 10), "abc");
}
