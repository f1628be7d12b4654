// The builtin reviewer: every check with components that pass and fail it,
// including evasions a model might produce.

#include <gtest/gtest.h>

#include "logic/html_scan.hpp"
#include "logic/review.hpp"
#include "logic/templates.hpp"

using namespace grove;
using logic::review::finding;
using logic::review::review;
using logic::review::severity;

namespace {

messages::component_spec spec(const std::string& name, const std::string& description = "") {
  return {name, description.empty() ? name : description};
}

std::vector<std::string> codes(const std::vector<finding>& fs) {
  std::vector<std::string> out;
  for (auto& f : fs) out.push_back(f.code);
  return out;
}

bool has(const std::vector<finding>& fs, const std::string& code) {
  for (auto& f : fs) {
    if (f.code == code) return true;
  }
  return false;
}

std::string joined(const std::vector<finding>& fs) {
  std::string out;
  for (auto& f : fs) out += "[" + f.code + "] " + f.message + "\n";
  return out;
}

// A root carrying the component's class around `inner`.
std::string root(const std::string& name, const std::string& inner) {
  return "<section class=\"card g-" + name + "\">" + inner + "</section>";
}

} // namespace

TEST(html_scan, reads_start_and_end_tags_attributes_and_text_in_order) {
  auto ts = logic::html::tokenize("<p class='a'>Hi <b>there</b></p><br/><!-- <iframe src=x> -->");
  ASSERT_GE(ts.size(), 7u);
  EXPECT_EQ(ts[0].name, "p");
  EXPECT_EQ(*ts[0].attr("class"), "a");
  EXPECT_EQ(ts[1].text, "Hi ");
  EXPECT_EQ(ts[2].name, "b");
  EXPECT_EQ(ts[4].type, logic::html::token::kind::end);
  bool iframe = false;
  for (auto& t : logic::html::start_tags("<!-- --!><iframe src=x> -->")) iframe = iframe || t.name == "iframe";
  EXPECT_TRUE(iframe) << "markup inside what looks like a comment is still read";
}

TEST(review, every_builtin_template_passes) {
  for (auto* name : {"dashboard", "login_form", "signup_form", "navbar", "data_table", "chart", "footer", "sidebar",
                     "pricing_table", "contact_form", "search_bar", "modal", "hero", "widget"}) {
    auto s = spec(name, std::string{"A "} + name);
    auto artifact = logic::builtin::component_json(name, logic::builtin::render_component(s));
    auto fs = logic::review::review_artifact(s, artifact);
    EXPECT_TRUE(fs.empty()) << name << ":\n" << joined(fs);
  }
}

TEST(review, a_login_form_needs_a_password_input_and_a_submit_control) {
  auto good = root("login_form",
                   "<label for=u>User</label><input id=u name=user><label for=p>Password</label>"
                   "<input id=p type=password><button>Log in</button>");
  EXPECT_TRUE(review(spec("login_form"), good, "").empty()) << joined(review(spec("login_form"), good, ""));
  auto no_password = root("login_form", "<label for=u>User</label><input id=u><button type=submit>Go</button>");
  EXPECT_TRUE(has(review(spec("login_form"), no_password, ""), "purpose_login"));
  // A "button" that does not submit, and a link styled as one, are not submit controls.
  auto no_submit = root("login_form",
                        "<label for=p>Password</label><input id=p type=password>"
                        "<button type=button>Log in</button><a class=btn href=#>Log in</a>");
  auto fs = review(spec("login_form"), no_submit, "");
  ASSERT_TRUE(has(fs, "purpose_login"));
  EXPECT_EQ(fs[0].level, severity::error);
  EXPECT_FALSE(fs[0].advice.empty());
  // Korean description counts.
  EXPECT_TRUE(has(review(spec("auth_box", "로그인 상자"), no_password, ""), "purpose_login"));
}

TEST(review, a_table_needs_header_cells) {
  EXPECT_FALSE(
    has(review(spec("data_table"), root("data_table", "<table><tr><th>A</th></tr><tr><td>1</td></tr></table>"), ""),
        "purpose_table"));
  EXPECT_TRUE(has(review(spec("data_table"), root("data_table", "<table><tr><td><b>A</b></td></tr></table>"), ""),
                  "purpose_table"));
}

TEST(review, a_chart_needs_a_graphic_with_a_title_and_a_description) {
  auto good = root("chart", "<h2 id=h>Sales</h2><svg role=img aria-labelledby=h><desc>Jan 4, Feb 6</desc></svg>");
  EXPECT_FALSE(has(review(spec("chart"), good, ""), "purpose_chart"));
  EXPECT_TRUE(has(review(spec("chart"), root("chart", "<div class=bars></div>"), ""), "purpose_chart"));
  EXPECT_TRUE(has(review(spec("chart"), root("chart", "<svg role=img><desc>data</desc></svg>"), ""), "purpose_chart"))
    << "no title";
  EXPECT_TRUE(has(review(spec("chart"), root("chart", "<svg role=img aria-label=Sales></svg>"), ""), "purpose_chart"))
    << "no description";
}

TEST(review, a_navbar_is_a_nav_landmark_holding_links) {
  EXPECT_FALSE(has(review(spec("navbar"), "<nav class=g-navbar><a href=#>Home</a></nav>", ""), "purpose_nav"));
  EXPECT_FALSE(
    has(review(spec("navbar"), "<div class=g-navbar role=navigation><a href=#>Home</a></div>", ""), "purpose_nav"));
  // Links beside the landmark, not in it.
  EXPECT_TRUE(
    has(review(spec("navbar"), "<div class=g-navbar><nav></nav><a href=#>Home</a></div>", ""), "purpose_nav"));
  EXPECT_TRUE(has(review(spec("navbar"), root("navbar", "<span>Home</span>"), ""), "purpose_nav"));
}

TEST(review, kinds_are_read_from_whole_words_of_the_name_and_description) {
  auto plain = root("canvas_widget", "<p>Draw here</p>");
  EXPECT_TRUE(review(spec("canvas_widget", "A canvas to draw on"), plain, "").empty()) << "nav is not in canvas";
  for (auto* name : {"graphql_explorer", "research_notes", "timetable", "navigator_status", "loginless_hint"}) {
    auto s = spec(name, std::string{"A "} + name);
    auto fs =
      logic::review::review_artifact(s, logic::builtin::component_json(name, logic::builtin::render_component(s)));
    EXPECT_TRUE(fs.empty()) << name << " is a generic component, held to no kind's promise:\n" << joined(fs);
  }
  EXPECT_TRUE(has(review(spec("sales_charts"), root("sales_charts", "<p>x</p>"), ""), "purpose_chart")) << "plural";
  EXPECT_TRUE(has(review(spec("top_menu", "Menu"), root("top_menu", "<p>x</p>"), ""), "purpose_nav"));
  EXPECT_TRUE(has(review(spec("box", "Navigation for the docs"), root("box", "<p>x</p>"), ""), "purpose_nav"));
  EXPECT_TRUE(has(review(spec("box", "검색 상자"), root("box", "<p>x</p>"), ""), "purpose_search"));
  EXPECT_FALSE(has(review(spec("pricing_table"), root("pricing_table", "<ul><li>Pro</li></ul>"), ""), "purpose_table"))
    << "a pricing table is plans side by side, not a data table";
}

TEST(review, a_search_bar_has_a_labelled_search_input) {
  EXPECT_FALSE(
    has(review(spec("search_bar"), root("search_bar", "<label for=q>Search</label><input id=q type=search>"), ""),
        "purpose_search"));
  EXPECT_TRUE(has(review(spec("search_bar"), root("search_bar", "<label for=q>Search</label><input id=q>"), ""),
                  "purpose_search"));
  EXPECT_TRUE(
    has(review(spec("search_bar"), root("search_bar", "<input type=search placeholder=Search>"), ""), "purpose_search"))
    << "a placeholder is not a label";
}

TEST(review, every_control_has_a_label_and_evasions_do_not_count) {
  auto ok = [](const std::string& inner) {
    return !has(review(spec("contact_form"), root("contact_form", inner), ""), "input_label");
  };
  EXPECT_TRUE(ok("<label for=a>Name</label><input id=a>"));
  EXPECT_TRUE(ok("<label>Name <input></label>"));
  EXPECT_TRUE(ok("<input aria-label=Name>"));
  EXPECT_TRUE(ok("<span id=n>Name</span><input aria-labelledby=n>"));
  EXPECT_TRUE(ok("<input type=hidden name=t><input type=submit value=Send>"));
  EXPECT_FALSE(ok("<input name=phone placeholder=Phone>"));
  EXPECT_FALSE(ok("<label for=a>Name</label><input id=a><input id=b name=company>")) << "one label, two inputs";
  EXPECT_FALSE(ok("<label for=a>Name</label><input id=b>")) << "a label pointing at another input's id";
  EXPECT_FALSE(ok("<label for=other>Name <input id=b></label><input id=other>"))
    << "a wrapping label with for= labels its target, not what it wraps";
  EXPECT_FALSE(ok("<label for=a></label><input id=a>")) << "an empty label";
  EXPECT_FALSE(ok("<input aria-labelledby=missing>")) << "aria-labelledby naming no element";
  EXPECT_FALSE(ok("<textarea></textarea>"));
  EXPECT_FALSE(ok("<select><option>A</option></select>"));
  auto fs = review(spec("contact_form"), root("contact_form", "<input name=phone>"), "");
  ASSERT_TRUE(has(fs, "input_label"));
  EXPECT_NE(fs[0].message.find("name=\"phone\""), std::string::npos) << fs[0].message;
}

TEST(review, images_need_alt_text_and_buttons_need_text) {
  auto fs = [](const std::string& inner) { return review(spec("hero"), root("hero", inner), ""); };
  EXPECT_TRUE(has(fs("<img src=a.png>"), "img_alt"));
  EXPECT_FALSE(has(fs("<img src=a.png alt=''>"), "img_alt")) << "decorative";
  EXPECT_FALSE(has(fs("<img src=a.png alt='A chart'>"), "img_alt"));
  EXPECT_FALSE(has(fs("<button>Send</button>"), "button_text"));
  EXPECT_FALSE(has(fs("<button aria-label=Close><svg></svg></button>"), "button_text"));
  EXPECT_FALSE(has(fs("<button><img src=x.png alt=Close></button>"), "button_text"));
  EXPECT_TRUE(has(fs("<button></button>"), "button_text"));
  EXPECT_TRUE(has(fs("<button>  </button>"), "button_text"));
  EXPECT_TRUE(has(fs("<button aria-hidden=true>Send</button>"), "button_text")) << "hidden from assistive technology";
  EXPECT_TRUE(has(fs("<button><span aria-hidden=true>×</span></button>"), "button_text")) << "its only text is hidden";
}

TEST(review, heading_levels_do_not_skip_and_the_root_carries_the_class) {
  auto hero = [](const std::string& html) { return review(spec("hero"), html, ""); };
  EXPECT_FALSE(has(hero(root("hero", "<h2>A</h2><h3>B</h3><h2>C</h2><h3>D</h3>")), "heading_order"));
  auto skip = hero(root("hero", "<h2>A</h2><h4>B</h4>"));
  ASSERT_TRUE(has(skip, "heading_order"));
  EXPECT_EQ(skip[0].level, severity::warning);
  EXPECT_TRUE(has(hero("<section class=card><h2>A</h2></section>"), "root_class"));
  EXPECT_TRUE(has(hero("<section class=g-hero-x><h2>A</h2></section>"), "root_class")) << "a lookalike class";
  EXPECT_TRUE(has(hero("<p>text</p><section class=g-hero></section>"), "root_class")) << "not the root";
  EXPECT_FALSE(has(hero("<section class='x  g-hero'></section>"), "root_class"));
}

TEST(review, colours_it_can_resolve_meet_wcag_aa_contrast_even_through_variables) {
  EXPECT_NEAR(logic::review::contrast_ratio(0x000000, 0xffffff), 21.0, 0.01);
  EXPECT_NEAR(logic::review::contrast_ratio(0x777777, 0xffffff), 4.48, 0.01);
  auto css = [](const std::string& rules) { return review(spec("hero"), root("hero", "<p>x</p>"), rules); };
  EXPECT_FALSE(has(css(".g-hero .btn{background:#4f46e5;color:#fff}"), "contrast"));
  EXPECT_TRUE(has(css(".g-hero .btn{background:#ffff00;color:#fff}"), "contrast"));
  EXPECT_TRUE(has(css(".g-hero .btn{background:rgb(200, 200, 200);color:white}"), "contrast"));
  // Through custom properties, fallbacks and a later redefinition (an accent edit).
  EXPECT_TRUE(has(css(".g-hero{--a:var(--g-accent,#eeeeee)}.g-hero .btn{background:var(--a);color:#fff}"), "contrast"));
  EXPECT_FALSE(
    has(css(".g-hero{--a:#eeeeee}.g-hero .btn{background:var(--a);color:#fff}.g-hero{--a:#111827}"), "contrast"));
  EXPECT_TRUE(has(css(".g-hero{--fg:var(--x,#fff);--bg:#fafafa}.g-hero .c{color:var(--fg);background-color:var(--bg)}"),
                  "contrast"));
  // What it cannot resolve it leaves alone; a cycle of variables ends.
  EXPECT_FALSE(has(css(".g-hero .c{color:currentColor;background:url(a.png)}"), "contrast"));
  EXPECT_FALSE(has(css(".g-hero{--a:var(--b);--b:var(--a)}.g-hero .c{color:var(--a);background:#fff}"), "contrast"));
  auto fs = css(".g-hero .btn{background:#ffff00;color:#fff}");
  ASSERT_TRUE(has(fs, "contrast"));
  EXPECT_EQ(fs.back().level, severity::warning);
}

TEST(review, an_answer_that_is_not_a_component_is_one_error) {
  auto fs = logic::review::review_artifact(spec("hero"), "not json");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].code, "not_a_component");
  EXPECT_EQ(codes(fs), std::vector<std::string>{"not_a_component"});
}
