// docs/configuration.md and examples/ember.yaml checked against the schema the loader
// enforces (describe_schema), so neither can drift from it.
#include "ember/config/schema.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ember/config/config.hpp"

namespace ember::config {
namespace {

namespace fs = std::filesystem;

fs::path source_dir() { return EMBER_SOURCE_DIR; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << path;
  return text.str();
}

std::string documentation() { return read_file(source_dir() / "docs" / "configuration.md"); }

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// A row of a key table in the documentation.
struct DocRow {
  int line = 0;
  std::string key;  // without backticks
  std::string default_doc;
  std::string allowed;
  std::string meaning;
};

// The section a heading names: its last `backticked` word, or the top level ("") if none.
std::string section_of_heading(const std::string& heading) {
  const auto close = heading.rfind('`');
  if (close == std::string::npos || close == 0) {
    return {};
  }
  const auto open = heading.rfind('`', close - 1);
  return open == std::string::npos ? "" : heading.substr(open + 1, close - open - 1);
}

DocRow parse_row(const std::string& line, int number) {
  std::vector<std::string> cells;
  std::istringstream row(line.substr(1));
  for (std::string cell; std::getline(row, cell, '|');) {
    cells.push_back(trim(cell));
  }
  EXPECT_EQ(cells.size(), 4U) << "line " << number << ": " << line;
  cells.resize(4);
  const std::string& key = cells[0];
  const bool quoted = key.size() > 2 && key.front() == '`' && key.back() == '`';
  EXPECT_TRUE(quoted) << "line " << number << ": the key is written `like_this`";
  return {number, quoted ? key.substr(1, key.size() - 2) : key, cells[1], cells[2], cells[3]};
}

constexpr std::string_view kHeaderRow = "| Key | Default | Allowed values | Meaning |";

// The key tables of docs/configuration.md by the section of the heading above each.
std::map<std::string, std::vector<DocRow>> documented_tables(const std::string& markdown) {
  std::map<std::string, std::vector<DocRow>> tables;
  std::istringstream lines(markdown);
  std::string section;
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.starts_with('#')) {
      section = section_of_heading(line);
    } else if (line == kHeaderRow) {
      EXPECT_EQ(tables.count(section), 0U)
          << "line " << number << ": a second table for `" << section << "`";
      tables[section];
    } else if (line.starts_with("| `")) {
      EXPECT_EQ(tables.count(section), 1U) << "line " << number << ": a row outside a table";
      tables[section].push_back(parse_row(line, number));
    }
  }
  return tables;
}

// How the row for `key` must read, to show in failure messages.
std::string expected_row(const KeyDescription& key) {
  return "| `" + key.name + "` | " + key.default_doc + " | " + key.allowed + " | " + key.doc +
         " ... |";
}

const SectionDescription* find_section(const std::vector<SectionDescription>& sections,
                                       const std::string& name) {
  const auto it = std::find_if(sections.begin(), sections.end(),
                               [&](const SectionDescription& s) { return s.name == name; });
  return it == sections.end() ? nullptr : &*it;
}

// `key`, the schema's `index`th of its section, has a row at that place in `rows` that
// shows its default and allowed values and starts its meaning with its doc line.
void expect_documented(const KeyDescription& key, std::size_t index,
                       const std::vector<DocRow>& rows) {
  const auto row =
      std::find_if(rows.begin(), rows.end(), [&](const DocRow& r) { return r.key == key.name; });
  if (row == rows.end()) {
    ADD_FAILURE() << "key `" << key.name << "` is not documented; add:\n" << expected_row(key);
    return;
  }
  SCOPED_TRACE("docs/configuration.md:" + std::to_string(row->line) + ": `" + key.name +
               "`; the row should read\n" + expected_row(key));
  EXPECT_EQ(row->default_doc, key.default_doc);
  EXPECT_EQ(row->allowed, key.allowed);
  EXPECT_TRUE(row->meaning.starts_with(key.doc)) << row->meaning;
  EXPECT_EQ(row - rows.begin(), static_cast<std::ptrdiff_t>(index))
      << "rows follow the schema's order";
}

TEST(DocumentedConfiguration, DocumentsEveryKeyWithTheSchemasDefaultAndAllowedValues) {
  const auto tables = documented_tables(documentation());
  for (const SectionDescription& section : describe_schema()) {
    SCOPED_TRACE("section `" + section.name + "`");
    const auto table = tables.find(section.name);
    if (table == tables.end()) {
      ADD_FAILURE() << "docs/configuration.md has no key table under a heading naming `"
                    << section.name << "`";
      continue;
    }
    for (std::size_t i = 0; i < section.keys.size(); ++i) {
      expect_documented(section.keys[i], i, table->second);
    }
  }
}

TEST(DocumentedConfiguration, DocumentsNoKeyTheSchemaLacks) {
  const auto sections = describe_schema();
  for (const auto& [name, rows] : documented_tables(documentation())) {
    const SectionDescription* section = find_section(sections, name);
    if (section == nullptr) {
      ADD_FAILURE() << "docs/configuration.md documents section `" << name
                    << "`, which the schema does not have";
      continue;
    }
    for (const DocRow& row : rows) {
      EXPECT_TRUE(std::any_of(section->keys.begin(), section->keys.end(),
                              [&](const KeyDescription& k) { return k.name == row.key; }))
          << "docs/configuration.md:" << row.line << ": `" << name << "` has no key `" << row.key
          << "`";
    }
  }
}

// The loader's own list of allowed keys, from its message about an unknown key in `yaml`.
std::string allowed_keys_in_error(const std::string& yaml) {
  try {
    parse_config(yaml, fs::path(EMBER_BINARY_DIR) / "schema-test.yaml");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    const std::string marker = "unknown key; allowed keys: ";
    const auto at = message.find(marker);
    return at == std::string::npos ? message : message.substr(at + marker.size());
  }
  return "(loaded)";
}

std::string names_of(const SectionDescription& section) {
  std::string out;
  for (const KeyDescription& key : section.keys) {
    out += (out.empty() ? "" : ", ") + key.name;
  }
  return out;
}

TEST(Schema, DescribesExactlyTheKeysTheLoaderAccepts) {
  const auto sections = describe_schema();
  const std::string function =
      "functions:\n  - name: a\n    runtime: provided\n    code: /usr/lib\n";
  const std::map<std::string, std::string> unknown_key_in = {
      {"", "no_such_key: 1\n"},
      {"node", "node: {no_such_key: 1}\n"},
      {"functions", function + "    no_such_key: 1\n"},
      {"seccomp", function + "    seccomp: {no_such_key: 1}\n"},
      {"async", function + "    async: {no_such_key: 1}\n"},
      {"schedules", function + "    schedules: [{no_such_key: 1}]\n"},
      {"http", function + "    http: {no_such_key: 1}\n"},
      {"node.http", "node: {http: {no_such_key: 1}}\n"},
      {"node.buckets", "node: {buckets: [{no_such_key: 1}]}\n"},
      {"node.cost", "node: {cost: {no_such_key: 1}}\n"},
      {"node.auth", "node: {auth: {no_such_key: 1}}\n"},
      {"credentials", "node: {auth: {mode: sigv4, credentials: [{no_such_key: 1}]}}\n"},
      {"s3_events", function + "    s3_events: [{no_such_key: 1}]\n"},
      {"mounts", function + "    mounts: [{no_such_key: 1}]\n"},
      {"logging", function + "    logging: {no_such_key: 1}\n"},
      {"image_config",
       "functions:\n  - name: a\n    image: oci:/\n    image_config: {no_such_key: 1}\n"},
  };
  ASSERT_EQ(sections.size(), unknown_key_in.size());
  for (const SectionDescription& section : sections) {
    SCOPED_TRACE("section `" + section.name + "`");
    ASSERT_EQ(unknown_key_in.count(section.name), 1U);
    EXPECT_EQ(allowed_keys_in_error(unknown_key_in.at(section.name)), names_of(section));
  }
}

// What the example shows of each section's keys: every key used, and of the optional scalar
// ones the values other than the default (a second function may set one, as the examples need).
struct ShownKeys {
  std::map<std::string, std::set<std::string>> used;
  std::map<std::string, std::set<std::string>> at_default;
  std::map<std::string, std::string> other_value;  // "section.key" -> one value shown
  std::vector<std::string> problems;
};

bool is_default_of(const KeyDescription& key, const std::string& value) {
  // required in some cases (a python handler): the example shows a real one
  return key.default_value.empty() || key.default_doc.find("required") != std::string::npos ||
         value == key.default_value ||
         // the empty string's default is documented as ""
         (key.default_value == "\"\"" && value.empty());
}

// Keys of the example by section, following the schema's nesting.
void collect_keys(const YAML::Node& map, const SectionDescription& section,
                  const std::vector<SectionDescription>& sections, ShownKeys& shown) {
  for (const auto& pair : map) {
    const std::string name = pair.first.Scalar();
    const auto key = std::find_if(section.keys.begin(), section.keys.end(),
                                  [&](const KeyDescription& k) { return k.name == name; });
    if (key == section.keys.end()) {
      shown.problems.push_back("`" + section.name + "` has no key `" + name + "`");
      continue;
    }
    shown.used[section.name].insert(name);
    if (key->section.empty()) {
      if (!pair.second.IsScalar() || is_default_of(*key, pair.second.Scalar())) {
        shown.at_default[section.name].insert(name);
      } else {
        shown.other_value[section.name + "." + name] = pair.second.Scalar();
      }
      continue;
    }
    shown.at_default[section.name].insert(name);
    const SectionDescription* inner = find_section(sections, key->section);
    if (inner == nullptr) {
      shown.problems.push_back("no section `" + key->section + "`");
      continue;
    }
    if (pair.second.IsSequence()) {
      for (const auto& item : pair.second) {
        collect_keys(item, *inner, sections, shown);
      }
    } else {
      collect_keys(pair.second, *inner, sections, shown);
    }
  }
}

TEST(ExampleConfiguration, LoadsAndShowsEveryKeyOfTheSchemaAtItsDefault) {
  const fs::path example = source_dir() / "examples" / "ember.yaml";
  ASSERT_NO_THROW(load_config(example));

  const auto sections = describe_schema();
  ShownKeys shown;
  collect_keys(YAML::LoadFile(example.string()), sections.front(), sections, shown);
  for (const std::string& problem : shown.problems) {
    ADD_FAILURE() << "examples/ember.yaml: " << problem;
  }
  for (const SectionDescription& section : sections) {
    for (const KeyDescription& key : section.keys) {
      EXPECT_EQ(shown.used[section.name].count(key.name), 1U)
          << "examples/ember.yaml does not show `" << key.name << "` of section `" << section.name
          << "`";
      const std::string qualified = section.name + "." + key.name;
      EXPECT_TRUE(shown.used[section.name].count(key.name) == 0 ||
                  shown.at_default[section.name].count(key.name) == 1)
          << "examples/ember.yaml shows `" << qualified << "` only as "
          << shown.other_value[qualified] << ", never at its default " << key.default_value;
    }
  }
}

}  // namespace
}  // namespace ember::config
