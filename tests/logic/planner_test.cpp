#include <gtest/gtest.h>

#include "logic/planner.hpp"
#include "messages/names.hpp"

using grove::logic::builtin::plan_components;

namespace {

std::vector<std::string> names(std::string_view request) {
  std::vector<std::string> out;
  for (auto& c : plan_components(request)) out.push_back(c.name);
  return out;
}

using v = std::vector<std::string>;

} // namespace

TEST(planner, korean_example_from_the_design) {
  EXPECT_EQ(names("대시보드 페이지와 로그인 폼 만들어줘"), (v{"dashboard", "login_form"}));
}

TEST(planner, english_example_from_the_design) {
  EXPECT_EQ(names("a dashboard page and a login form"), (v{"dashboard", "login_form"}));
}

TEST(planner, korean_sentences) {
  EXPECT_EQ(names("회원가입 폼과 내비게이션 바를 만들어 주세요"), (v{"signup_form", "navbar"}));
  EXPECT_EQ(names("차트, 테이블, 푸터 추가해줘"), (v{"chart", "data_table", "footer"}));
  EXPECT_EQ(names("검색창이랑 모달 그리고 사이드바"), (v{"search_bar", "modal", "sidebar"}));
  EXPECT_EQ(names("요금표와 문의 양식, 히어로 배너"), (v{"pricing_table", "contact_form", "hero"}));
}

TEST(planner, english_sentences_with_many_components) {
  EXPECT_EQ(names("Build me a landing page with a hero, pricing plans, a contact form and a footer."),
            (v{"hero", "pricing_table", "contact_form", "footer"}));
  EXPECT_EQ(names("navbar, sidebar, data table, chart, search bar, modal dialog, feature cards"),
            (v{"navbar", "sidebar", "data_table", "chart", "search_bar", "modal", "cards"}));
  EXPECT_EQ(names("I need a sign in form plus a sign up form"), (v{"login_form", "signup_form"}));
}

TEST(planner, duplicates_are_merged) {
  EXPECT_EQ(names("a login form and another login box and a log in page"), (v{"login_form"}));
}

TEST(planner, unknown_nouns_become_generic_components) {
  EXPECT_EQ(names("a weather widget and a login form"), (v{"weather_widget", "login_form"}));
  EXPECT_EQ(names("testimonials section"), (v{"testimonials"}));
  EXPECT_EQ(names("날씨 위젯과 로그인 폼"), (v{"weather_widget", "login_form"}));
  auto generic = plan_components("an FAQ accordion");
  ASSERT_EQ(generic.size(), 1u);
  EXPECT_EQ(generic[0].name, "faq_accordion");
  EXPECT_NE(generic[0].description.find("faq accordion"), std::string::npos);
}

TEST(planner, keywords_match_whole_words_only) {
  EXPECT_EQ(names("a cardboard recycling tracker"), (v{"cardboard_recycling_tracker"}));
  EXPECT_EQ(names("the tables"), (v{"data_table"}));
}

TEST(planner, nothing_to_build_gives_nothing) {
  EXPECT_TRUE(names("").empty());
  EXPECT_TRUE(names("   ").empty());
  EXPECT_TRUE(names("please make it").empty());
  EXPECT_TRUE(names("만들어줘").empty());
}

TEST(planner, hostile_text_yields_only_valid_names) {
  for (auto& c : plan_components("../../etc/passwd and $(rm -rf /) and `reboot` and <script>alert(1)</script>")) {
    EXPECT_TRUE(grove::messages::is_valid_name(c.name)) << c.name;
  }
}
