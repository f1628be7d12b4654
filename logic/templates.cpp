#include "logic/templates.hpp"

#include <vector>

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/names.hpp"

namespace grove::logic::builtin {

namespace {

struct component_template {
  const char* id;
  std::vector<std::string> tokens; // name parts that select this template
  const char* title;
  const char* role;
  const char* html;
  const char* css;
};

// Shared look: every rule is scoped to the component's class ({{c}}) and
// reads the page's custom properties, with fallbacks when used alone.
const char* base_css =
  R"(.{{c}}{--a:var(--g-accent,#4f46e5);--s:var(--g-surface,#fff);--t:var(--g-text,#111827);--m:var(--g-muted,#6b7280);--b:var(--g-border,#e5e7eb);--r:var(--g-radius,12px);color:var(--t);font:inherit}
.{{c}} *,.{{c}} *::before,.{{c}} *::after{box-sizing:border-box}
.{{c}} .card{background:var(--s);border:1px solid var(--b);border-radius:var(--r);padding:1.25rem;box-shadow:0 1px 2px rgba(0,0,0,.05)}
.{{c}} h2{font-size:1.25rem;margin:0 0 .75rem}
.{{c}} .muted{color:var(--m);font-size:.875rem}
.{{c}} .btn{display:inline-block;border:0;border-radius:8px;padding:.6rem 1rem;background:var(--a);color:#fff;font-weight:600;cursor:pointer;text-decoration:none}
.{{c}} .btn.ghost{background:transparent;color:var(--a);border:1px solid var(--a)}
.{{c}} .btn:focus-visible,.{{c}} a:focus-visible,.{{c}} input:focus-visible,.{{c}} textarea:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.{{c}} label{display:block;font-weight:600;font-size:.875rem;margin:.75rem 0 .25rem}
.{{c}} input,.{{c}} textarea,.{{c}} select{width:100%;padding:.6rem .75rem;border:1px solid var(--b);border-radius:8px;font:inherit;background:var(--s);color:var(--t)}
)";

const std::vector<component_template>& templates() {
  static const std::vector<component_template> items = {
    {"dashboard",
     {"dashboard", "overview", "admin"},
     "Dashboard",
     "data",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><div class="card"><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p>
<ul class="kpis" role="list"><li><span class="muted">Revenue</span><strong>$48,250</strong><span class="up">+12.4%</span></li><li><span class="muted">Active users</span><strong>3,842</strong><span class="up">+5.1%</span></li><li><span class="muted">Orders</span><strong>1,209</strong><span class="down">-1.8%</span></li><li><span class="muted">Conversion</span><strong>3.6%</strong><span class="up">+0.4%</span></li></ul>
<h3>Recent activity</h3><ol class="feed"><li><time datetime="PT5M">5 min ago</time> New order #1042 from Mina Park</li><li><time datetime="PT1H">1 h ago</time> Invoice #311 paid</li><li><time datetime="PT3H">3 h ago</time> 12 new sign-ups</li></ol></div></section>)",
     R"(.{{c}} .kpis{list-style:none;padding:0;margin:1rem 0;display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem}
.{{c}} .kpis li{border:1px solid var(--b);border-radius:10px;padding:.9rem;display:flex;flex-direction:column;gap:.2rem}
.{{c}} .kpis strong{font-size:1.5rem}.{{c}} .up{color:#047857;font-size:.8rem}.{{c}} .down{color:#b91c1c;font-size:.8rem}
.{{c}} h3{font-size:1rem;margin:1rem 0 .5rem}.{{c}} .feed{margin:0;padding-left:1.1rem;display:grid;gap:.4rem}.{{c}} time{color:var(--m);margin-right:.5rem;font-size:.85rem})"},
    {"login_form",
     {"login", "signin", "logon"},
     "Log in",
     "form",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><form class="card" action="#" method="post" novalidate><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p>
<label for="{{c}}-email">Email</label><input id="{{c}}-email" name="email" type="email" autocomplete="email" required>
<label for="{{c}}-password">Password</label><input id="{{c}}-password" name="password" type="password" autocomplete="current-password" required minlength="8">
<div class="row"><label class="check"><input type="checkbox" name="remember"> Remember me</label><a href="#forgot">Forgot password?</a></div>
<button class="btn" type="submit">Log in</button></form></section>)",
     R"(.{{c}} form{max-width:26rem;margin:0 auto}.{{c}} .row{display:flex;justify-content:space-between;align-items:center;margin:.75rem 0 1rem;font-size:.875rem}
.{{c}} .check{display:flex;gap:.4rem;align-items:center;font-weight:400;margin:0}.{{c}} .check input{width:auto}.{{c}} .btn{width:100%}.{{c}} a{color:var(--a)})"},
    {"signup_form",
     {"signup", "register", "registration", "join"},
     "Create your account",
     "form",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><form class="card" action="#" method="post" novalidate><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p>
<label for="{{c}}-name">Full name</label><input id="{{c}}-name" name="name" autocomplete="name" required>
<label for="{{c}}-email">Email</label><input id="{{c}}-email" name="email" type="email" autocomplete="email" required>
<label for="{{c}}-password">Password</label><input id="{{c}}-password" name="password" type="password" autocomplete="new-password" minlength="8" required aria-describedby="{{c}}-hint"><p id="{{c}}-hint" class="muted">At least 8 characters.</p>
<label class="check"><input type="checkbox" name="terms" required> I agree to the terms</label><button class="btn" type="submit">Sign up</button></form></section>)",
     R"(.{{c}} form{max-width:28rem;margin:0 auto}.{{c}} .check{display:flex;gap:.4rem;align-items:center;font-weight:400;margin:1rem 0}.{{c}} .check input{width:auto}.{{c}} .btn{width:100%})"},
    {"navbar",
     {"navbar", "nav", "navigation", "header", "menu", "topbar"},
     "Navigation",
     "navigation",
     R"(<nav class="{{c}}" aria-label="{{title}}"><a class="brand" href="#">grove</a><ul role="list"><li><a href="#" aria-current="page">Home</a></li><li><a href="#features">Features</a></li><li><a href="#pricing">Pricing</a></li><li><a href="#contact">Contact</a></li></ul><a class="btn" href="#start">Get started</a></nav>)",
     R"(.{{c}}{display:flex;align-items:center;gap:1.5rem;flex-wrap:wrap;padding:.9rem 1.25rem;background:var(--s);border:1px solid var(--b);border-radius:var(--r)}
.{{c}} .brand{font-weight:800;font-size:1.15rem;color:var(--t);text-decoration:none}.{{c}} ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0;flex:1;flex-wrap:wrap}
.{{c}} ul a{color:var(--m);text-decoration:none;font-weight:500}.{{c}} ul a[aria-current]{color:var(--a)})"},
    {"data_table",
     {"table", "grid", "datagrid", "spreadsheet", "list"},
     "Data table",
     "data",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><div class="card"><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p><div class="scroll" role="region" aria-labelledby="{{c}}-h" tabindex="0"><table><thead><tr><th scope="col">Customer</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody><tr><td>Mina Park</td><td>Pro</td><td><span class="badge ok">Paid</span></td><td class="num">$49.00</td></tr><tr><td>Alex Kim</td><td>Team</td><td><span class="badge wait">Pending</span></td><td class="num">$199.00</td></tr><tr><td>Sam Lee</td><td>Starter</td><td><span class="badge bad">Overdue</span></td><td class="num">$9.00</td></tr></tbody></table></div></div></section>)",
     R"(.{{c}} .scroll{overflow-x:auto}.{{c}} table{width:100%;border-collapse:collapse;font-size:.925rem}.{{c}} th,.{{c}} td{padding:.65rem .75rem;text-align:left;border-bottom:1px solid var(--b)}
.{{c}} th{color:var(--m);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}.{{c}} .num{text-align:right;font-variant-numeric:tabular-nums}
.{{c}} .badge{padding:.15rem .5rem;border-radius:999px;font-size:.75rem;font-weight:600}.{{c}} .ok{background:#d1fae5;color:#065f46}.{{c}} .wait{background:#fef3c7;color:#92400e}.{{c}} .bad{background:#fee2e2;color:#991b1b})"},
    {"chart",
     {"chart", "graph", "plot", "stats", "analytics"},
     "Monthly sales",
     "chart",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><figure class="card"><h2 id="{{c}}-h">{{title}}</h2><svg viewBox="0 0 320 160" role="img" aria-labelledby="{{c}}-h {{c}}-d"><desc id="{{c}}-d">Bar chart: Jan 40, Feb 65, Mar 52, Apr 88, May 74, Jun 96.</desc>
<g class="bars"><rect x="20" y="100" width="32" height="40"/><rect x="70" y="75" width="32" height="65"/><rect x="120" y="88" width="32" height="52"/><rect x="170" y="52" width="32" height="88"/><rect x="220" y="66" width="32" height="74"/><rect x="270" y="44" width="32" height="96"/></g>
<g class="axis"><line x1="10" y1="140" x2="312" y2="140"/></g><g class="labels"><text x="36" y="155">Jan</text><text x="86" y="155">Feb</text><text x="136" y="155">Mar</text><text x="186" y="155">Apr</text><text x="236" y="155">May</text><text x="286" y="155">Jun</text></g></svg><figcaption class="muted">{{desc}}</figcaption></figure></section>)",
     R"(.{{c}} figure{margin:0}.{{c}} svg{width:100%;height:auto;max-height:16rem;display:block;margin:0 auto}.{{c}} .bars rect{fill:var(--a);rx:4}.{{c}} .axis line{stroke:var(--b);stroke-width:2}.{{c}} .labels text{font-size:10px;fill:var(--m);text-anchor:middle})"},
    {"footer",
     {"footer", "bottom"},
     "Footer",
     "footer",
     R"(<footer class="{{c}}"><nav aria-label="Footer"><ul role="list"><li><a href="#about">About</a></li><li><a href="#privacy">Privacy</a></li><li><a href="#terms">Terms</a></li><li><a href="#contact">Contact</a></li></ul></nav><p class="muted">&copy; 2026 grove. Built by agents, reviewed by a QA gate.</p></footer>)",
     R"(.{{c}}{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap;gap:1rem;padding:1.25rem;border-top:1px solid var(--b)}
.{{c}} ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}.{{c}} a{color:var(--m);text-decoration:none}.{{c}} a:hover{color:var(--a)})"},
    {"sidebar",
     {"sidebar", "side", "aside", "drawer"},
     "Sidebar",
     "aside",
     R"(<aside class="{{c}}" aria-label="{{title}}"><nav class="card"><h2>Workspace</h2><ul role="list"><li><a href="#" aria-current="page">Overview</a></li><li><a href="#projects">Projects</a></li><li><a href="#reports">Reports</a></li></ul><h2>Account</h2><ul role="list"><li><a href="#settings">Settings</a></li><li><a href="#billing">Billing</a></li></ul></nav></aside>)",
     R"(.{{c}} h2{font-size:.75rem;text-transform:uppercase;letter-spacing:.06em;color:var(--m);margin:1rem 0 .4rem}.{{c}} h2:first-child{margin-top:0}
.{{c}} ul{list-style:none;margin:0;padding:0;display:grid;gap:.15rem}.{{c}} a{display:block;padding:.45rem .6rem;border-radius:8px;color:var(--t);text-decoration:none}.{{c}} a[aria-current],.{{c}} a:hover{background:rgba(79,70,229,.08);color:var(--a)})"},
    {"pricing_table",
     {"pricing", "price", "plans", "plan", "tiers"},
     "Pricing",
     "content",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p><ul class="plans" role="list">
<li class="card"><h3>Starter</h3><p class="price"><strong>$9</strong>/month</p><ul><li>1 project</li><li>Community support</li></ul><a class="btn ghost" href="#starter">Choose Starter</a></li>
<li class="card best"><h3>Pro <span class="tag">Popular</span></h3><p class="price"><strong>$49</strong>/month</p><ul><li>Unlimited projects</li><li>Priority support</li></ul><a class="btn" href="#pro">Choose Pro</a></li>
<li class="card"><h3>Team</h3><p class="price"><strong>$199</strong>/month</p><ul><li>10 seats</li><li>SSO and audit log</li></ul><a class="btn ghost" href="#team">Choose Team</a></li></ul></section>)",
     R"(.{{c}} .plans{list-style:none;padding:0;margin:1rem 0 0;display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
.{{c}} .plans>li{display:flex;flex-direction:column;gap:.5rem}.{{c}} .best{border:2px solid var(--a)}.{{c}} h3{margin:0;font-size:1.1rem}.{{c}} .price strong{font-size:2rem}
.{{c}} .tag{font-size:.7rem;background:var(--a);color:#fff;border-radius:999px;padding:.1rem .5rem;vertical-align:middle}.{{c}} .plans ul{padding-left:1.1rem;margin:0;flex:1})"},
    {"contact_form",
     {"contact", "feedback", "inquiry"},
     "Contact us",
     "form",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><form class="card" action="#" method="post"><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p>
<label for="{{c}}-name">Name</label><input id="{{c}}-name" name="name" autocomplete="name" required><label for="{{c}}-email">Email</label><input id="{{c}}-email" name="email" type="email" autocomplete="email" required>
<label for="{{c}}-msg">Message</label><textarea id="{{c}}-msg" name="message" rows="4" required></textarea><button class="btn" type="submit">Send message</button></form></section>)",
     R"(.{{c}} form{max-width:32rem;margin:0 auto}.{{c}} .btn{margin-top:1rem})"},
    {"search_bar",
     {"search", "find", "lookup"},
     "Search",
     "search",
     R"(<search class="{{c}}"><form class="card" role="search" action="#"><label for="{{c}}-q">{{title}}</label><div class="row"><input id="{{c}}-q" name="q" type="search" placeholder="Search projects, people, docs" autocomplete="off"><button class="btn" type="submit">Search</button></div></form></search>)",
     R"(.{{c}}{display:block}.{{c}} .row{display:flex;gap:.5rem}.{{c}} label{margin-top:0})"},
    {"modal",
     {"modal", "dialog", "popup", "overlay"},
     "Confirm action",
     "dialog",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><div class="card demo"><div class="dialog" role="dialog" aria-modal="false" aria-labelledby="{{c}}-h" aria-describedby="{{c}}-d"><h2 id="{{c}}-h">{{title}}</h2><p id="{{c}}-d">{{desc}}</p><div class="actions"><button class="btn ghost" type="button">Cancel</button><button class="btn" type="button">Confirm</button></div></div></div></section>)",
     R"(.{{c}} .demo{background:rgba(17,24,39,.55);display:grid;place-items:center;padding:2rem}.{{c}} .dialog{background:var(--s);border-radius:var(--r);padding:1.5rem;max-width:26rem;box-shadow:0 20px 40px rgba(0,0,0,.25)}
.{{c}} .actions{display:flex;justify-content:flex-end;gap:.5rem;margin-top:1rem})"},
    {"hero",
     {"hero", "banner", "landing", "splash", "jumbotron"},
     "Build pages with agents",
     "banner",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><div class="inner"><p class="eyebrow">grove</p><h1 id="{{c}}-h">{{title}}</h1><p class="lead">{{desc}}</p><div class="ctas"><a class="btn" href="#start">Get started</a><a class="btn ghost" href="#learn">Learn more</a></div></div></section>)",
     R"(.{{c}}{background:linear-gradient(135deg,var(--a),#7c3aed);color:#fff;border-radius:var(--r);padding:clamp(2rem,6vw,4rem)}.{{c}} h1{font-size:clamp(1.8rem,4vw,3rem);margin:.25rem 0 1rem;line-height:1.1}
.{{c}} .eyebrow{text-transform:uppercase;letter-spacing:.1em;opacity:.85;margin:0}.{{c}} .lead{font-size:1.15rem;max-width:40rem;opacity:.95}.{{c}} .ctas{display:flex;gap:.75rem;flex-wrap:wrap}
.{{c}} .btn{background:#fff;color:var(--a)}.{{c}} .btn.ghost{background:transparent;color:#fff;border-color:#fff})"},
    {"cards",
     {"cards", "card", "features", "tiles"},
     "Features",
     "content",
     R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><h2 id="{{c}}-h">{{title}}</h2><p class="muted">{{desc}}</p><ul role="list"><li class="card"><h3>Isolated</h3><p>Every component is built in its own git worktree.</p></li><li class="card"><h3>Checked</h3><p>A QA gate rejects unsafe or malformed output.</p></li><li class="card"><h3>Parallel</h3><p>Agents work side by side and merge into main.</p></li></ul></section>)",
     R"(.{{c}} ul{list-style:none;padding:0;margin:1rem 0 0;display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem}.{{c}} h3{margin:0 0 .4rem;font-size:1.05rem}.{{c}} li p{margin:0;color:var(--m)})"},
  };
  return items;
}

const char* generic_html =
  R"(<section class="{{c}}" aria-labelledby="{{c}}-h"><div class="card"><h2 id="{{c}}-h">{{title}}</h2><p>{{desc}}</p></div></section>)";

const component_template* find_template(const std::string& name) {
  for (auto& t : templates()) {
    if (name == t.id) return &t;
  }
  for (auto& tok : messages::split(name, '_')) {
    for (auto& t : templates()) {
      for (auto& k : t.tokens) {
        if (tok == k) return &t;
      }
    }
  }
  return nullptr;
}

std::string title_from_name(const std::string& name) {
  std::string out;
  bool start = true;
  for (char c : name) {
    if (c == '_') {
      out += ' ';
      start = true;
    } else {
      out += start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      start = false;
    }
  }
  return out.size() > 120 ? out.substr(0, 120) : out;
}

} // namespace

bool has_template(const std::string& name) {
  return find_template(name) != nullptr;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

rendered_component render_component(const messages::component_spec& spec) {
  rendered_component out;
  const auto* t = find_template(spec.name);
  out.title = t != nullptr ? t->title : title_from_name(spec.name);
  out.description = spec.description.empty() ? out.title : spec.description;
  out.role = t != nullptr ? t->role : "generic";
  auto cls = "g-" + spec.name;
  auto fill = [&](std::string s) {
    s = messages::replace_all(s, "{{c}}", cls);
    s = messages::replace_all(s, "{{title}}", html_escape(out.title));
    return messages::replace_all(s, "{{desc}}", html_escape(out.description));
  };
  out.html = fill(t != nullptr ? t->html : generic_html);
  out.css = fill(std::string{base_css} + (t != nullptr ? t->css : ""));
  return out;
}

std::string component_json(const std::string& name, const rendered_component& c) {
  nlohmann::json doc = {
    {"component", name},
    {"version", 1},
    {"metadata", {{"title", c.title}, {"description", c.description}, {"role", c.role}}},
    {"html", c.html},
    {"css", c.css},
  };
  return messages::component_to_text(doc);
}

} // namespace grove::logic::builtin
