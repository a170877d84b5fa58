#include "mqttspec/conformance/scenario_loader.hpp"

#include "mqttspec/conformance/client_role.hpp"

#include "mqttspec/conformance/scenario_lint.hpp"
#include "mqttspec/conformance/variables.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace mqttspec::conformance {

std::string to_string(const load_error& e) {
  return e.file + ":" + std::to_string(e.line) + ": " + e.message;
}

namespace {

struct step_rule {
  std::string_view element;
  step_kind kind;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
  bool has_topics = false;
  bool has_properties = false;
};

// The one table of step elements and their attributes.
const std::vector<step_rule>& step_rules() {
  static const std::vector<step_rule> rules{
      {"open", step_kind::open, {"client"}, {"timeout-ms", "ws-subprotocol", "auto-ack"}},
      {"connect", step_kind::connect, {"client"},
       {"client-id", "clean", "keep-alive", "username", "password", "no-credentials", "will-topic", "will-payload",
        "will-qos", "will-retain", "session-expiry", "expect", "session-present", "reason", "timeout-ms", "auto-ack",
        "auto-ping", "eventual"},
       false, true},
      {"send", step_kind::send, {"client"},
       {"type", "hex", "first-byte", "body-hex", "length", "topic", "topic-hex", "qos", "retain", "dup", "id",
        "payload", "payload-hex", "payload-repeat", "reason", "filter", "ws-opcode", "ws-split", "ws-fragment", "ws-hold"},
       true, true},
      {"expect", step_kind::expect, {"client", "type"},
       {"reason", "qos", "retain", "dup", "topic", "payload", "payload-hex", "payload-repeat", "id", "id-not",
        "session-present", "codes", "capture-id", "max-size", "timeout-ms", "scram", "scram-password", "eventual",
        "capture-granted", "min-granted"},
       false, true},
      {"expect-close", step_kind::expect_close, {"client"},
       {"reasons", "timeout-ms", "min-ms", "require-reason", "no-reason", "max-size"}},
      {"expect-nothing", step_kind::expect_nothing, {"client", "ms"}, {}},
      {"drop", step_kind::drop, {"client"}, {}},
      {"disconnect", step_kind::disconnect, {"client"}, {"reason"}, false, true},
      {"any-of", step_kind::any_of, {}, {}},
      {"expect-all", step_kind::expect_all, {}, {}},
      {"clear-retained", step_kind::clear_retained, {"topic"}, {}},
      {"end-session", step_kind::end_session, {"client-id"}, {}},
  };
  return rules;
}

// Client scenarios (the runner is the Server): the same elements with the roles reversed, plus the
// application's side through the driver. <open> accepts the client's next connection; <connect>
// accepts one if needed, expects its CONNECT (the attributes check its fields) and answers with a
// CONNACK (reason, session-present, <property> children); <send> sends server packets; <expect>
// checks what the client sent (CONNECT and SUBSCRIBE fields too); <app do="..."> gives the driver an
// action (a send of the application's, kind send); <expect-app event="..."> waits for what the
// driver reports (kind expect). See docs/client-drivers.md.
const std::vector<step_rule>& client_step_rules() {
  static const std::vector<std::string_view> connect_checks{
      "clean", "keep-alive", "client-id", "username", "password", "no-credentials", "will-topic", "will-payload",
      "will-qos", "will-retain", "no-will", "session-expiry"};
  static const std::vector<step_rule> rules = [] {
    std::vector<step_rule> r{
        {"open", step_kind::open, {"client"}, {"timeout-ms", "auto-ack", "auto-ping"}},
        {"connect", step_kind::connect, {"client"},
         {"session-present", "reason", "timeout-ms", "auto-ack", "auto-ping", "eventual", "capture-client-id"},
         false, true},
        {"send", step_kind::send, {"client"},
         {"type", "hex", "first-byte", "body-hex", "length", "topic", "topic-hex", "qos", "retain", "dup", "id",
          "payload", "payload-hex", "payload-repeat", "reason", "session-present", "codes"},
         false, true},
        {"expect", step_kind::expect, {"client", "type"},
         {"reason", "qos", "retain", "dup", "topic", "payload", "payload-hex", "payload-repeat", "id", "id-not",
          "codes", "capture-id", "max-size", "timeout-ms", "eventual", "filter", "capture-client-id"},
         true, true},
        {"expect-app", step_kind::expect, {"client", "event"},
         {"topic", "payload", "payload-hex", "qos", "retain", "reason", "session-present", "timeout-ms", "eventual"}},
        {"expect-close", step_kind::expect_close, {"client"},
         {"reasons", "timeout-ms", "min-ms", "require-reason", "no-reason", "max-size"}},
        {"expect-nothing", step_kind::expect_nothing, {"client", "ms"}, {"event"}},
        {"drop", step_kind::drop, {"client"}, {}},
        {"disconnect", step_kind::disconnect, {"client"}, {"reason"}, false, true},
        {"any-of", step_kind::any_of, {}, {}},
        {"expect-all", step_kind::expect_all, {}, {}},
        {"app", step_kind::send, {"client", "do"}, {}},
    };
    for (auto& rule : r)
      if (rule.element == "connect" || rule.element == "expect")
        rule.optional.insert(rule.optional.end(), connect_checks.begin(), connect_checks.end());
    return r;
  }();
  return rules;
}

const std::set<std::string_view> packet_types{"connect", "publish", "puback", "pubrec", "pubrel", "pubcomp",
                                              "subscribe", "suback", "unsubscribe", "unsuback", "pingreq",
                                              "pingresp", "disconnect", "auth", "connack"};

// Attributes whose value, once free of variables, must be a number in range.
const std::map<std::string_view, unsigned long> numeric_attrs{
    {"qos", 2}, {"id", 65535}, {"keep-alive", 65535}, {"will-qos", 2}, {"session-expiry", 0xFFFFFFFF},
    {"timeout-ms", 600000}, {"ms", 600000}, {"min-ms", 600000}, {"first-byte", 255}, {"length", 268435455},
    {"reason", 255}, {"payload-repeat", 268435455}, {"max-size", 268435460},
    {"ws-split", 268435460}, {"ws-fragment", 268435460}, {"min-granted", 2}};
const std::set<std::string_view> bool_attrs{"clean", "retain", "dup", "will-retain", "session-present",
                                            "require-reason", "no-credentials", "no-local", "rap", "present", "ws-hold",
                                            "auto-ack", "auto-ping", "eventual", "no-reason", "no-will"};

class loader {
 public:
  loader(suite_version v, std::string file, const catalog* cat, load_result& out,
         scenario_role role = scenario_role::broker)
      : version_(v), file_(std::move(file)), cat_(cat), out_(out), role_(role) {}

  void document(const pugi::xml_node& root, const variables& vars) {
    for (auto child : root.children()) {
      if (child.type() != pugi::node_element) continue;
      const std::string_view name = child.name();
      if (name == "scenario") {
        scenario_node(child, vars);
      } else if (name == "for-each") {
        for_each(child, vars, [&](const variables& inner) { document(child, inner); });
      } else {
        error(child, "unexpected element <" + std::string(name) + "> (want <scenario> or <for-each>)");
      }
    }
  }

  int line_of(const pugi::xml_node& n) const {
    // pugixml gives offsets; lines are counted from the document text kept by the caller.
    const auto off = static_cast<std::size_t>(n.offset_debug());
    if (!text_ || off > text_->size()) return 0;
    return 1 + static_cast<int>(std::count(text_->begin(), text_->begin() + static_cast<std::ptrdiff_t>(off), '\n'));
  }
  void set_text(std::string_view t) { text_ = t; }

 private:
  void error(const pugi::xml_node& n, std::string msg) { out_.errors.push_back({file_, line_of(n), std::move(msg)}); }

  std::string sub(std::string_view text, const variables& vars) { return expand(text, vars).text; }

  // <for-each var="x" values="1 2 3">, or tuples: <for-each var="sub pub" values="0:1 1:0">.
  template <class F>
  void for_each(const pugi::xml_node& n, const variables& vars, F&& body) {
    const auto names = split_list(n.attribute("var").value());
    const auto values = split_list(sub(n.attribute("values").value(), vars));
    if (names.empty() || values.empty()) {
      error(n, "<for-each> needs var and a non-empty values list");
      return;
    }
    for (const auto& v : values) {
      std::vector<std::string> parts;
      std::size_t start = 0;
      for (;;) {
        const auto colon = names.size() > 1 ? v.find(':', start) : std::string::npos;
        parts.push_back(v.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
      if (parts.size() != names.size()) {
        error(n, "<for-each>: value \"" + v + "\" does not have one ':'-separated part per variable");
        continue;
      }
      auto inner = vars;
      for (std::size_t i = 0; i < names.size(); ++i) inner[names[i]] = parts[i];
      body(inner);
    }
  }

  void scenario_node(const pugi::xml_node& n, const variables& vars) {
    scenario s;
    s.version = version_;
    s.file = file_;
    s.line = line_of(n);
    s.id = sub(n.attribute("id").value(), vars);
    if (s.id.empty()) error(n, "scenario without id");
    s.title = sub(n.child_value("title"), vars);
    s.requirement = sub(n.child_value("requirement"), vars);
    if (s.title.empty()) error(n, "scenario " + s.id + ": missing <title>");
    if (s.requirement.empty()) error(n, "scenario " + s.id + ": missing <requirement>");
    const std::string lvl = n.attribute("level").as_string("MUST");
    if (lvl == "MUST") s.lvl = level::must;
    else if (lvl == "SHOULD") s.lvl = level::should;
    else if (lvl == "MAY") s.lvl = level::may;
    else error(n, "scenario " + s.id + ": level must be MUST, SHOULD or MAY, not " + lvl);
    s.requires_caps = split_list(sub(n.attribute("requires").value(), vars));
    for (auto st : n.children("statement")) {
      auto id = qualify(sub(st.attribute("ref").value(), vars), version_);
      if (cat_ && !cat_->find(id)) error(st, "scenario " + s.id + ": unknown statement " + id);
      else if (cat_ && s.section.empty()) s.section = cat_->find(id)->section;
      s.statements.push_back(std::move(id));
    }
    if (s.statements.empty()) error(n, "scenario " + s.id + ": needs at least one <statement ref=...>");
    if (s.section.empty() && !s.statements.empty()) {
      // Without a catalog, the section is read off the label: MQTT-3.1.2-4 -> 3.1.2
      auto label = s.statements.front().substr(s.statements.front().find("MQTT-") + 5);
      s.section = label.substr(0, label.rfind('-'));
    }
    for (auto child : n.children()) {
      const std::string_view name = child.name();
      if (child.type() != pugi::node_element) continue;
      if (name == "steps") steps(child, vars, s.steps, false);
      else if (name == "control") steps(child, vars, s.control, false);
      else if (name == "cleanup") steps(child, vars, s.cleanup, false);
      else if (name != "title" && name != "requirement" && name != "statement")
        error(child, "scenario " + s.id + ": unexpected element <" + std::string(name) + ">");
    }
    if (s.steps.empty()) error(n, "scenario " + s.id + ": no <steps>");
    for (const auto& p : lint(s)) out_.errors.push_back({file_, p.line ? p.line : s.line, "scenario " + s.id + ": " + p.message});
    for (auto a : n.attributes()) {
      const std::string_view an = a.name();
      if (an != "id" && an != "level" && an != "requires")
        error(n, "scenario " + s.id + ": unknown attribute " + std::string(an));
    }
    out_.scenarios.push_back(std::move(s));
  }

  void steps(const pugi::xml_node& parent, const variables& vars, std::vector<step>& out, bool expectations_only) {
    for (auto child : parent.children()) {
      if (child.type() != pugi::node_element) continue;
      const std::string_view name = child.name();
      if (name == "for-each") {
        for_each(child, vars, [&](const variables& inner) { steps(child, inner, out, expectations_only); });
        continue;
      }
      const auto& rules = role_ == scenario_role::client ? client_step_rules() : step_rules();
      auto rule = std::find_if(rules.begin(), rules.end(), [&](const step_rule& r) { return r.element == name; });
      if (rule == rules.end()) {
        error(child, "unknown step <" + std::string(name) + ">");
        continue;
      }
      if (expectations_only && rule->kind != step_kind::expect && rule->kind != step_kind::expect_close &&
          rule->kind != step_kind::expect_nothing && rule->kind != step_kind::expect_all) {
        error(child, "<any-of> options and <expect-all> may only hold expectations, not <" + std::string(name) + ">");
        continue;
      }
      step st;
      st.kind = rule->kind;
      st.line = line_of(child);
      for (auto a : child.attributes()) {
        const std::string an = a.name();
        const bool known = std::find(rule->required.begin(), rule->required.end(), an) != rule->required.end() ||
                           std::find(rule->optional.begin(), rule->optional.end(), an) != rule->optional.end();
        if (!known) {
          error(child, "<" + std::string(name) + ">: unknown attribute " + an);
          continue;
        }
        st.attrs[an] = sub(a.value(), vars);
        check_value(child, an, st.attrs[an]);
      }
      for (auto req : rule->required)
        if (!st.attrs.count(req)) error(child, "<" + std::string(name) + ">: missing attribute " + std::string(req));
      if (auto t = st.attrs.find("type"); t != st.attrs.end() && t->second.find("${") == std::string::npos &&
                                          !packet_types.count(t->second))
        error(child, "<" + std::string(name) + ">: unknown packet type " + t->second);
      if (st.kind == step_kind::send && !st.attrs.count("do")) {
        const int forms = int(st.attrs.count("type")) + int(st.attrs.count("hex")) + int(st.attrs.count("first-byte"));
        if (forms != 1) error(child, "<send>: give exactly one of type, hex or first-byte");
      }
      for (auto sub_node : child.children()) {
        if (sub_node.type() != pugi::node_element) continue;
        const std::string_view sn = sub_node.name();
        if (st.kind == step_kind::any_of && sn == "option") {
          st.options.emplace_back();
          steps(sub_node, vars, st.options.back().steps, true);
          st.options.back().unsupported = sub(sub_node.attribute("unsupported").value(), vars);
          if (st.options.back().steps.empty()) error(sub_node, "<option> without steps");
        } else if (st.kind == step_kind::expect_all) {
          continue;  // read below, as a list of steps
        } else if (sn == "topic" && rule->has_topics) {
          st.topics.push_back(attrs_of(sub_node, vars, {"filter", "qos", "no-local", "rap", "rh"}));
        } else if (sn == "property" && rule->has_properties) {
          st.properties.push_back(attrs_of(sub_node, vars, {"name", "value", "present"}));
          if (!st.properties.back().count("name")) error(sub_node, "<property> needs a name");
        } else {
          error(sub_node, "<" + std::string(name) + ">: unexpected child <" + std::string(sn) + ">");
        }
      }
      if (st.kind == step_kind::any_of && st.options.size() < 2) error(child, "<any-of> needs at least two <option>s");
      if (st.kind == step_kind::expect_all) {
        steps(child, vars, st.group, true);
        for (const auto& g : st.group)
          if (g.kind != step_kind::expect) error(child, "<expect-all> holds only <expect> steps");
        if (st.group.size() < 2) error(child, "<expect-all> needs at least two <expect>s");
      }
      out.push_back(std::move(st));
    }
  }

  attributes attrs_of(const pugi::xml_node& n, const variables& vars, std::initializer_list<std::string_view> allowed) {
    attributes a;
    for (auto at : n.attributes()) {
      const std::string an = at.name();
      if (std::find(allowed.begin(), allowed.end(), an) == allowed.end()) {
        error(n, "<" + std::string(n.name()) + ">: unknown attribute " + an);
        continue;
      }
      a[an] = sub(at.value(), vars);
      check_value(n, an, a[an]);
    }
    return a;
  }

  void check_value(const pugi::xml_node& n, const std::string& name, const std::string& value) {
    if (value.find("${") != std::string::npos) return;  // checked when it runs
    // A number, or alternatives "0x81|0x82" where the matcher takes any of them.
    if (auto it = numeric_attrs.find(name); it != numeric_attrs.end())
      for (const auto& alt : split_list(value, "|"))
        if (!parse_number(alt, it->second))
          error(n, "attribute " + name + "=\"" + value + "\": not a number in 0.." + std::to_string(it->second));
    if (bool_attrs.count(name) && !parse_bool(value))
      error(n, "attribute " + name + "=\"" + value + "\": not a boolean (0/1/true/false)");
  }

  suite_version version_;
  std::string file_;
  const catalog* cat_;
  load_result& out_;
  scenario_role role_;
  std::optional<std::string_view> text_;
};

}  // namespace

load_result load_scenario_text(std::string_view xml, suite_version v, const std::string& file, const catalog* cat) {
  return load_scenario_text(xml, v, file, cat, scenario_role::broker);
}

load_result load_scenario_text(std::string_view xml, suite_version v, const std::string& file, const catalog* cat,
                               scenario_role role) {
  load_result out;
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(xml.data(), xml.size());
  loader l(v, file, cat, out, role);
  l.set_text(xml);
  if (!parsed) {
    const auto off = static_cast<std::size_t>(parsed.offset);
    const int line = 1 + static_cast<int>(std::count(xml.begin(), xml.begin() + static_cast<std::ptrdiff_t>(
                                                                                std::min(off, xml.size())), '\n'));
    out.errors.push_back({file, line, std::string("XML: ") + parsed.description()});
    return out;
  }
  auto root = doc.document_element();
  if (std::string_view(root.name()) != "scenarios") {
    out.errors.push_back({file, l.line_of(root), "root element must be <scenarios>"});
    return out;
  }
  l.document(root, {});
  return out;
}

namespace {

load_result load_tree(const std::filesystem::path& dir, const catalog* cat, scenario_role role) {
  load_result all;
  for (auto [v, sub] : {std::pair{suite_version::v3_1_1, "v3.1.1"}, std::pair{suite_version::v5, "v5.0"}}) {
    const auto d = dir / sub;
    if (!std::filesystem::is_directory(d)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(d))
      if (e.path().extension() == ".xml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      auto r = load_scenario_text(ss.str(), v, f.string(), cat, role);
      for (auto& s : r.scenarios) all.scenarios.push_back(std::move(s));
      for (auto& e : r.errors) all.errors.push_back(std::move(e));
    }
  }
  std::set<std::string> seen;
  for (const auto& s : all.scenarios)
    if (!seen.insert(s.id).second) all.errors.push_back({s.file, s.line, "duplicate scenario id " + s.id});
  if (all.scenarios.empty() && all.errors.empty())
    all.errors.push_back({dir.string(), 0, "no scenarios found (expected v3.1.1/*.xml and v5.0/*.xml)"});
  return all;
}

}  // namespace

load_result load_scenarios(const std::filesystem::path& dir, const catalog* cat) {
  return load_tree(dir, cat, scenario_role::broker);
}

load_result load_client_scenarios(const std::filesystem::path& dir, const catalog* cat) {
  return load_tree(dir / "client", cat, scenario_role::client);
}

}  // namespace mqttspec::conformance
