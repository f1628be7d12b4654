// The three-way merge of component versions that rebasing an edit uses.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "infra/git/component_merge.hpp"
#include "infra/git/resolutions.hpp"
#include "logic/edits.hpp"
#include "logic/qa_rules.hpp"
#include "logic/templates.hpp"
#include "support.hpp"

using namespace grove;

namespace {

std::string contact_form() {
  messages::component_spec spec{"contact_form", "Contact form with name, email and message"};
  return logic::builtin::component_json("contact_form", logic::builtin::render_component(spec));
}

std::string edit(const std::string& artifact, const std::string& instruction) {
  auto out = logic::builtin::apply_edit(artifact, instruction);
  EXPECT_TRUE(out) << instruction;
  return out ? *out : std::string{};
}

nlohmann::json html_of(const std::string& text) {
  return nlohmann::json::parse(text)["html"];
}

} // namespace

TEST(component_merge, two_fields_added_at_the_same_place_are_both_kept) {
  auto base = contact_form();
  auto phone = edit(base, "add a phone field to the contact form");
  auto company = edit(base, "add a company field to the contact form");
  auto m = git::merge_component(base, company, phone);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(m->clean()) << m->conflicts[0];
  EXPECT_TRUE(m->kept_both_insertions);
  auto html = html_of(m->text).get<std::string>();
  EXPECT_NE(html.find("name=\"phone\""), std::string::npos) << html;
  EXPECT_NE(html.find("name=\"company\""), std::string::npos) << html;
  EXPECT_NE(html.find("name=\"email\""), std::string::npos);
  EXPECT_TRUE(logic::qa::check_artifact(m->text, "contact_form").empty());
}

TEST(component_merge, changes_to_different_fields_and_lines_merge_by_themselves) {
  auto base = contact_form();
  auto titled = edit(base, "change the title of the contact form to Write to us");
  auto green = edit(base, "make the contact form green");
  auto phone = edit(base, "add a phone field to the contact form");
  auto m = git::merge_component(base, titled, green);
  ASSERT_TRUE(m && m->clean());
  EXPECT_FALSE(m->kept_both_insertions);
  auto doc = nlohmann::json::parse(m->text);
  EXPECT_EQ(doc["metadata"]["title"], "Write to us");
  EXPECT_NE(doc["css"].get<std::string>().find("--a:#16a34a"), std::string::npos);
  // The title is on the first line of the markup, the new field before the button: no overlap.
  auto m2 = git::merge_component(base, titled, phone);
  ASSERT_TRUE(m2 && m2->clean());
  EXPECT_FALSE(m2->kept_both_insertions);
  auto html = html_of(m2->text).get<std::string>();
  EXPECT_NE(html.find(">Write to us</h2>"), std::string::npos);
  EXPECT_NE(html.find("name=\"phone\""), std::string::npos);
}

TEST(component_merge, the_same_thing_changed_two_ways_is_a_conflict) {
  auto base = contact_form();
  auto a = edit(base, "change the title of the contact form to Hello");
  auto b = edit(base, "change the title of the contact form to Welcome");
  auto m = git::merge_component(base, a, b);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->clean());
  EXPECT_EQ(m->conflicts, (std::vector<std::string>{"html", "metadata.title"}));
  EXPECT_TRUE(m->text.empty());
  // A removal against an insertion at the same place is not only additions: a conflict too.
  auto removed = edit(base, "remove the message field from the contact form");
  auto added = edit(base, "add a phone field to the contact form");
  auto m2 = git::merge_component(base, removed, added);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->conflicts, std::vector<std::string>{"html"});
  // Identical changes on both sides are no conflict.
  auto same = git::merge_component(base, a, a);
  ASSERT_TRUE(same && same->clean());
  EXPECT_FALSE(git::merge_component("not json", a, b));
}

// The memory of resolutions: one key for the same conflict whichever side
// landed first and whatever versions the copies carry; a planted link is no memory.
TEST(resolutions, the_same_conflict_has_one_key_and_a_planted_link_is_no_memory) {
  auto base = contact_form();
  auto a = edit(base, "change the title of the contact form to \"Write to us\"");
  auto b = edit(base, "change the title of the contact form to \"Get in touch\"");
  auto key = git::conflict_key(base, a, b);
  ASSERT_EQ(key.size(), 40u);
  EXPECT_EQ(git::conflict_key(base, b, a), key) << "either side first";
  auto renumbered = nlohmann::json::parse(a);
  renumbered["version"] = 7;
  EXPECT_EQ(git::conflict_key(base, renumbered.dump(), b), key) << "versions left out";
  EXPECT_NE(git::conflict_key(base, a, edit(base, "change the title of the contact form to \"Other\"")), key);
  EXPECT_EQ(git::conflict_key("not json", a, b), "");

  test::temp_dir dir;
  auto ws = dir.path();
  EXPECT_FALSE(git::recall_resolution(ws, key));
  ASSERT_TRUE(git::remember_resolution(ws, key, a));
  auto back = git::recall_resolution(ws, key);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
  EXPECT_FALSE(git::recall_resolution(ws, "../../etc/passwd")) << "only keys name files";
  // A link planted for the memory's folder: nothing is read through it, nothing written.
  test::temp_dir outside;
  std::filesystem::remove_all(ws / ".grove/resolutions");
  std::filesystem::create_directory_symlink(outside.path(), ws / ".grove/resolutions");
  test::write_file(outside.path() / (key + ".json"), b);
  EXPECT_FALSE(git::recall_resolution(ws, key));
  EXPECT_FALSE(git::remember_resolution(ws, key, a));
  EXPECT_EQ(test::read_file(outside.path() / (key + ".json")), b);
}
