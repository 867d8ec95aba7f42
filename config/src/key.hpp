// A key of ember.yaml as a row of a schema table: its name, the struct member it fills, how
// its value is read and checked, its default and its doc line. The tables are in schema.hpp.
//
// A key is bound to its member by a member pointer given as a template argument, so the
// table is the only place its name is written: rules find a key by its member (key_for),
// and the compiler rejects a member that no key fills.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/config/schema.hpp"
#include "messages.hpp"
#include "walker.hpp"

// Table rows name only the fields they set, and the rest keep their defaults on purpose; GCC 12
// warns about that even for designated initializers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ember::config::detail {

// Identifies the member a key fills: the compiler's spelling of the member pointer. Not the
// address of a per-member tag: GCC's -fsanitize=null makes comparing two addresses non-constant.
using MemberId = std::string_view;
template <auto Member>
constexpr MemberId member_id() {
  return __PRETTY_FUNCTION__;
}

template <class>
struct MemberPointer;
template <class S, class T>
struct MemberPointer<T S::*> {
  using Struct = S;
  using Type = T;
};
template <auto Member>
using StructOf = typename MemberPointer<decltype(Member)>::Struct;
template <auto Member>
using TypeOf = typename MemberPointer<decltype(Member)>::Type;

// How one key's value is read and stored, and how its allowed values and default read in
// the documentation. Made by the factories of value_types.hpp, never written out by hand.
template <class Struct>
struct ValueType {
  MemberId member;
  void (*read)(const Walker&, const ValueType&, const Entry&, Struct&) = nullptr;
  std::string (*allowed)(const ValueType&) = nullptr;
  // The member's initializer in config.hpp as YAML text; nullptr when there is none to show.
  std::string (*default_value)(const ValueType&) = nullptr;
  // For a key whose value is a section of its own: describes that section.
  void (*describe_section)(std::string_view name, std::vector<SectionDescription>&) = nullptr;
  IntegerRange range{};                         // integers, and the items of integer lists
  IntegerRange list_size{};                     // integer lists: how many items
  bool (*accepts)(std::string_view) = nullptr;  // strings and list items: their syntax
  std::string_view expected;  // what `accepts` wants, or a custom key's allowed values
};

// A default that is another section's value of a key, applied before the key is read.
template <class Struct>
struct Inherit {
  void (*apply)(const NodeConfig&, Struct&) = nullptr;
  std::string_view section;  // where it comes from, for the documentation
  std::string_view key;
};

template <class Struct>
struct Key {
  using Target = Struct;

  std::string_view name;
  ValueType<Struct> type;
  bool required = false;
  Inherit<Struct> inherit{};
  std::string_view rule;          // a cross-key rule (rules.cpp), shown after the allowed values
  std::string_view default_note;  // what the default means, shown after it
  std::string_view doc;           // one line; docs/configuration.md's description starts with it
};

template <class Struct, std::size_t N>
using Keys = std::array<Key<Struct>, N>;

// The names of the table's keys, in its order.
template <class Struct, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const Keys<Struct, N>& keys) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) {
    names.at(i) = keys.at(i).name;
  }
  return names;
}

// Reads the map `map` (at dotted `path`) into `out`: unknown and repeated keys are errors,
// then each key of the table in its order is read, or reported if required and missing.
template <class Struct, std::size_t N>
Entries walk(const Walker& walker, const Keys<Struct, N>& keys, const YAML::Node& map,
             std::string_view path, Struct& out) {
  Entries entries = walker.read_map(map, path, names_of(keys));
  for (const Key<Struct>& key : keys) {
    if (const auto it = entries.find(key.name); it != entries.end()) {
      key.type.read(walker, key.type, it->second, out);
    } else if (key.required) {
      walker.fail(map, child_key(path, key.name), "missing (required)");
    }
  }
  return entries;
}

inline std::string item_path(const Entry& list, std::size_t index) {
  return list.key_path + "[" + std::to_string(index) + "]";
}

// Each map of the list `entry` read with `Table` into a new element of `out`; the entries of
// each item, for the checks across items.
template <const auto& Table, class Item>
std::vector<Entries> read_list(const Walker& walker, const Entry& entry, std::vector<Item>& out) {
  if (!entry.value.IsSequence()) {
    walker.fail(entry, "expected a list, got " + describe(entry.value));
  }
  std::vector<Entries> items;
  std::size_t index = 0;
  for (const auto& node : entry.value) {
    const std::string path = item_path(entry, index++);
    if (!node.IsMap()) {
      walker.fail(node, path, "expected a map, got " + describe(node));
    }
    Item item;
    items.push_back(walk(walker, Table, node, path, item));
    out.push_back(std::move(item));
  }
  return items;
}

// The table's key that fills `Member`; a compile error if there is none.
template <const auto& Table, auto Member>
constexpr const auto& key_for() {
  constexpr std::size_t kIndex = [] {
    std::size_t index = 0;
    for (const auto& key : Table) {
      if (key.type.member == member_id<Member>()) {
        break;
      }
      ++index;
    }
    return index;
  }();
  static_assert(kIndex < Table.size(), "no key of this schema table fills this member");
  return Table[kIndex];
}

// The entry of `key` if the map had it.
template <class Struct>
const Entry* entry_for(const Entries& entries, const Key<Struct>& key) {
  const auto it = entries.find(key.name);
  return it == entries.end() ? nullptr : &it->second;
}

// Each name and each member at most once in a table.
template <class Struct, std::size_t N>
constexpr bool is_well_formed(const Keys<Struct, N>& keys) {
  for (std::size_t i = 0; i < N; ++i) {
    const Key<Struct>& key = keys.at(i);
    if (key.name.empty() || key.doc.empty()) {
      return false;
    }
    for (std::size_t j = i + 1; j < N; ++j) {
      if (key.name == keys.at(j).name || key.type.member == keys.at(j).type.member) {
        return false;
      }
    }
  }
  return true;
}

// --- Documentation: the rows describe_schema() returns ----------------------------------------

// The name of the section a key of section `parent` holds. The node's own sections are
// `node.NAME`, since a function may have a section of the same name (`http`).
inline std::string section_name(std::string_view parent, std::string_view key) {
  return parent == "node" ? "node." + std::string(key) : std::string(key);
}

template <class Struct>
KeyDescription describe_key(std::string_view parent, const Key<Struct>& key) {
  KeyDescription out{.name = std::string(key.name),
                     .allowed = key.type.allowed(key.type),
                     .doc = std::string(key.doc)};
  if (!key.rule.empty()) {
    out.allowed += "; " + std::string(key.rule);
  }
  if (key.required) {
    out.default_doc = "required";
  } else if (key.inherit.apply != nullptr) {
    out.default_doc =
        "`" + std::string(key.inherit.section) + "." + std::string(key.inherit.key) + "`";
  } else if (key.type.default_value != nullptr) {
    out.default_value = key.type.default_value(key.type);
    out.default_doc = "`" + out.default_value + "`";
  }
  // A default of 0 that stands for something says what, as the range does.
  const std::string_view note = !key.default_note.empty()  ? key.default_note
                                : out.default_value == "0" ? key.type.range.zero_means
                                                           : std::string_view();
  if (!note.empty()) {
    out.default_doc += (out.default_doc.empty() ? "" : ": ") + std::string(note);
  }
  if (key.type.describe_section != nullptr) {
    out.section = section_name(parent, key.name);
  }
  return out;
}

template <const auto& Table>
void describe_keys(std::string_view name, std::vector<SectionDescription>& out) {
  SectionDescription section{.name = std::string(name)};
  for (const auto& key : Table) {
    section.keys.push_back(describe_key(name, key));
  }
  out.push_back(std::move(section));
  for (const auto& key : Table) {
    if (key.type.describe_section != nullptr) {
      key.type.describe_section(section_name(name, key.name), out);
    }
  }
}

}  // namespace ember::config::detail

#pragma GCC diagnostic pop
