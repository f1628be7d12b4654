#include "messages/registry.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>

#include "messages/errors.hpp"
#include "messages/types.hpp"

namespace grove::messages {

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<component_spec>("grove.component_spec")
    .add_message_type<plan>("grove.plan")
    .add_message_type<violation>("grove.violation")
    .add_message_type<job_start>("grove.job_start")
    .add_message_type<job_cancel>("grove.job_cancel")
    .add_message_type<lease_acquire>("grove.lease_acquire")
    .add_message_type<lease_release>("grove.lease_release")
    .add_message_type<plan_request>("grove.plan_request")
    .add_message_type<model_request>("grove.model_request")
    .add_message_type<model_reply>("grove.model_reply")
    .add_message_type<provider_done>("grove.provider_done")
    .add_message_type<router_retry>("grove.router_retry")
    .add_message_type<usage_request>("grove.usage_request")
    .add_message_type<usage>("grove.usage")
    .add_message_type<job_usage>("grove.job_usage")
    .add_message_type<generate_request>("grove.generate_request")
    .add_message_type<generation_result>("grove.generation_result")
    .add_message_type<worktree_open>("grove.worktree_open")
    .add_message_type<worktree_commit>("grove.worktree_commit")
    .add_message_type<worktree_remove>("grove.worktree_remove")
    .add_message_type<worktree_rebase>("grove.worktree_rebase")
    .add_message_type<rebase_outcome>("grove.rebase_outcome")
    .add_message_type<qa_request>("grove.qa_request")
    .add_message_type<qa_verdict>("grove.qa_verdict")
    .add_message_type<review_finding>("grove.review_finding")
    .add_message_type<lesson>("grove.lesson")
    .add_message_type<lessons_request>("grove.lessons_request")
    .add_message_type<lesson_learned>("grove.lesson_learned")
    .add_message_type<lesson_outcome>("grove.lesson_outcome")
    .add_message_type<std::vector<int64_t>>("grove.id_list")
    .add_message_type<std::vector<lesson>>("grove.lesson_list")
    .add_message_type<std::vector<review_finding>>("grove.review_finding_list")
    .add_message_type<merge_request>("grove.merge_request")
    .add_message_type<merge_result>("grove.merge_result")
    .add_message_type<file_entry>("grove.file_entry")
    .add_message_type<commit_files_request>("grove.commit_files_request")
    .add_message_type<commit_files_result>("grove.commit_files_result")
    .add_message_type<page_request>("grove.page_request")
    .add_message_type<compose_request>("grove.compose_request")
    .add_message_type<compose_result>("grove.compose_result")
    .add_message_type<telemetry_event>("grove.telemetry_event")
    .add_message_type<telemetry_stats>("grove.telemetry_stats")
    .add_message_type<component_report>("grove.component_report")
    .add_message_type<job_report>("grove.job_report")
    .add_message_type<generator_restart>("grove.generator_restart")
    .add_message_type<component_status>("grove.component_status")
    .add_message_type<job_status>("grove.job_status")
    .add_message_type<submit_job>("grove.submit_job")
    .add_message_type<status_request>("grove.status_request")
    .add_message_type<status_reply>("grove.status_reply")
    .add_message_type<cancel_job>("grove.cancel_job")
    .add_message_type<journal_entry>("grove.journal_entry")
    .add_message_type<node_hello>("grove.node_hello")
    .add_message_type<placement_request>("grove.placement_request")
    .add_message_type<node_info>("grove.node_info")
    .add_message_type<std::vector<node_info>>("grove.node_info_list");
  cfg.add_error_category(caf::atom("grove"), [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string out = to_string(static_cast<errc>(code));
    if (ctx.match_elements<std::string>()) {
      out += ": ";
      out += ctx.get_as<std::string>(0);
    }
    return out;
  });
}

} // namespace grove::messages
