// A key of ember.yaml as a row of a schema table: its name, the struct member it fills, how
// its value is read and checked, its default and its doc line. The tables are in schema.hpp.
//
// A key is bound to its member by a member pointer given as a template argument, so the
// table is the only place its name is written: rules find a key by its member (key_for),
// and the compiler rejects a member that no key fills.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
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

// Identifies the member a key fills: one address per member pointer.
using MemberId = const void*;
template <auto Member>
inline constexpr char kMemberTag = 0;
template <auto Member>
constexpr MemberId member_id() {
  return &kMemberTag<Member>;
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
// the documentation. Made by the factories below, never written out by hand.
template <class Struct>
struct ValueType {
  MemberId member = nullptr;
  void (*read)(const Walker&, const ValueType&, const Entry&, Struct&) = nullptr;
  std::string (*allowed)(const ValueType&) = nullptr;
  // The member's initializer in config.hpp as YAML text; nullptr when there is none to show.
  std::string (*default_value)(const ValueType&) = nullptr;
  // For a key whose value is a section of its own: describes that section.
  void (*describe_section)(std::string_view name, std::vector<SectionDescription>&) = nullptr;
  IntegerRange range{};                         // integers
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

// Reads the map `map` (at dotted `path`) into `out`: unknown and repeated keys are errors,
// then each key of the table in its order is read, or reported if required and missing.
template <class Struct, std::size_t N>
Entries walk(const Walker& walker, const Keys<Struct, N>& keys, const YAML::Node& map,
             std::string_view path, Struct& out) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) {
    names.at(i) = keys.at(i).name;
  }
  Entries entries = walker.read_map(map, path, names);
  for (const Key<Struct>& key : keys) {
    if (const auto it = entries.find(key.name); it != entries.end()) {
      key.type.read(walker, key.type, it->second, out);
    } else if (key.required) {
      walker.fail(map, child_key(path, key.name), "missing (required)");
    }
  }
  return entries;
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
    if (key.name.empty() || key.doc.empty() || key.type.read == nullptr) {
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

// --- Integers, durations included ------------------------------------------------------------

template <class T>
struct IsDuration : std::false_type {};
template <class Rep, class Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <class T>
constexpr std::uint64_t largest_value() {
  if constexpr (IsDuration<T>::value) {
    return static_cast<std::uint64_t>(std::numeric_limits<typename T::rep>::max());
  } else {
    return std::numeric_limits<T>::max();
  }
}

template <class T>
std::uint64_t integer_value(const T& value) {
  if constexpr (IsDuration<T>::value) {
    return static_cast<std::uint64_t>(value.count());
  } else {
    return value;
  }
}

template <auto Member>
void read_integer(const Walker& walker, const ValueType<StructOf<Member>>& type, const Entry& entry,
                  StructOf<Member>& out) {
  using T = TypeOf<Member>;
  const std::uint64_t number = walker.integer(entry, type.range);
  if constexpr (IsDuration<T>::value) {
    out.*Member = T(static_cast<typename T::rep>(number));
  } else {
    out.*Member = static_cast<T>(number);
  }
}

template <class Struct>
std::string integer_allowed(const ValueType<Struct>& type) {
  const std::string range = std::to_string(type.range.min) + ".." + std::to_string(type.range.max);
  return type.range.zero_means.empty() ? "integer " + range : "`0`, or an integer " + range;
}

template <auto Member>
std::string member_default_integer(const ValueType<StructOf<Member>>& /*type*/) {
  const StructOf<Member> defaults{};
  return std::to_string(integer_value(defaults.*Member));
}

// An integer MIN..MAX (or 0 when `zero_means` says what 0 stands for); durations count in
// their own unit.
template <auto Member>
constexpr ValueType<StructOf<Member>> integer(std::uint64_t min, std::uint64_t max,
                                              std::string_view zero_means = {}) {
  if (min > max || max > largest_value<TypeOf<Member>>()) {
    // In a constant expression, as every table is, this is a compile error.
    throw std::logic_error("the range does not fit the member");
  }
  return {.member = member_id<Member>(),
          .read = &read_integer<Member>,
          .allowed = &integer_allowed<StructOf<Member>>,
          .default_value = &member_default_integer<Member>,
          .range = {min, max, zero_means}};
}

// --- One of a few words -------------------------------------------------------------------------

template <class T>
struct Choice {
  std::string_view word;
  T value;
};

template <const auto& Choices>
inline constexpr auto kChoiceWords = [] {
  std::array<std::string_view, Choices.size()> words{};
  for (std::size_t i = 0; i < Choices.size(); ++i) {
    words.at(i) = Choices.at(i).word;
  }
  return words;
}();

template <auto Member, const auto& Choices>
void read_choice(const Walker& walker, const ValueType<StructOf<Member>>& /*type*/,
                 const Entry& entry, StructOf<Member>& out) {
  out.*Member = Choices.at(walker.choice(entry, kChoiceWords<Choices>)).value;
}

template <class Struct, const auto& Choices>
std::string choice_allowed(const ValueType<Struct>& /*type*/) {
  std::string out;
  for (const auto& choice : Choices) {
    out += (out.empty() ? "`" : ", `") + std::string(choice.word) + "`";
  }
  return out;
}

template <auto Member, const auto& Choices>
std::string member_default_choice(const ValueType<StructOf<Member>>& /*type*/) {
  const StructOf<Member> defaults{};
  for (const auto& choice : Choices) {
    if (choice.value == defaults.*Member) {
      return std::string(choice.word);
    }
  }
  return "(no word for the default)";
}

// One of the words of `Choices` (an array of Choice), stored as the value paired with it.
template <auto Member, const auto& Choices>
constexpr ValueType<StructOf<Member>> choice() {
  return {.member = member_id<Member>(),
          .read = &read_choice<Member, Choices>,
          .allowed = &choice_allowed<StructOf<Member>, Choices>,
          .default_value = &member_default_choice<Member, Choices>};
}

// --- Strings and lists of them ------------------------------------------------------------------

template <auto Member>
void read_text(const Walker& walker, const ValueType<StructOf<Member>>& type, const Entry& entry,
               StructOf<Member>& out) {
  std::string text = walker.string(entry);
  if (type.accepts != nullptr && !type.accepts(text)) {
    walker.fail(entry, "expected " + std::string(type.expected) + ", got " + in_backticks(text));
  }
  out.*Member = std::move(text);
}

template <class Struct>
std::string text_allowed(const ValueType<Struct>& type) {
  return type.expected.empty() ? "a string" : std::string(type.expected);
}

template <auto Member>
std::string member_default_text(const ValueType<StructOf<Member>>& /*type*/) {
  const StructOf<Member> defaults{};
  const std::string& text = defaults.*Member;
  return text.empty() ? "\"\"" : text;
}

// Any scalar as text; with `accepts`, only text it accepts ("expected `expected`, got ...").
template <auto Member>
constexpr ValueType<StructOf<Member>> text(bool (*accepts)(std::string_view) = nullptr,
                                           std::string_view expected = {}) {
  return {.member = member_id<Member>(),
          .read = &read_text<Member>,
          .allowed = &text_allowed<StructOf<Member>>,
          .default_value = &member_default_text<Member>,
          .accepts = accepts,
          .expected = expected};
}

template <auto Member>
void read_text_list(const Walker& walker, const ValueType<StructOf<Member>>& type,
                    const Entry& entry, StructOf<Member>& out) {
  out.*Member = walker.string_list(entry, type.accepts, type.expected);
}

template <class Struct>
std::string text_list_allowed(const ValueType<Struct>& type) {
  return "a list; each " + std::string(type.expected);
}

template <auto Member>
std::string member_default_text_list(const ValueType<StructOf<Member>>& /*type*/) {
  const StructOf<Member> defaults{};
  std::string out;
  for (const std::string& item : defaults.*Member) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return "[" + out + "]";
}

// A list of strings, each one `accepts` ("expected `expected`, got ...").
template <auto Member>
constexpr ValueType<StructOf<Member>> text_list(bool (*accepts)(std::string_view),
                                                std::string_view expected) {
  return {.member = member_id<Member>(),
          .read = &read_text_list<Member>,
          .allowed = &text_list_allowed<StructOf<Member>>,
          .default_value = &member_default_text_list<Member>,
          .accepts = accepts,
          .expected = expected};
}

// --- Keys with a reader of their own (readers.cpp) ---------------------------------------------

template <auto Member, auto Read>
void read_custom(const Walker& walker, const ValueType<StructOf<Member>>& /*type*/,
                 const Entry& entry, StructOf<Member>& out) {
  Read(walker, entry, out);
}

template <class Struct>
std::string custom_allowed(const ValueType<Struct>& type) {
  return std::string(type.expected);
}

template <auto Default, class Struct>
std::string custom_default(const ValueType<Struct>& /*type*/) {
  return Default();
}

// Filled by `Read(walker, entry, struct)`, which may set more than `Member` (`listen` sets host
// and port); `allowed` is shown as is, `Default()` gives the default as YAML text.
template <auto Member, auto Read, auto Default = nullptr>
constexpr ValueType<StructOf<Member>> custom(std::string_view allowed) {
  ValueType<StructOf<Member>> type{.member = member_id<Member>(),
                                   .read = &read_custom<Member, Read>,
                                   .allowed = &custom_allowed<StructOf<Member>>,
                                   .expected = allowed};
  if constexpr (Default != nullptr) {
    type.default_value = &custom_default<Default, StructOf<Member>>;
  }
  return type;
}

// --- Sections: a map whose keys have a table of their own ----------------------------------------

template <class Struct>
KeyDescription describe_key(const Key<Struct>& key) {
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
    out.section = std::string(key.name);
  }
  return out;
}

template <const auto& Table>
void describe_keys(std::string_view name, std::vector<SectionDescription>& out) {
  SectionDescription section{.name = std::string(name)};
  for (const auto& key : Table) {
    section.keys.push_back(describe_key(key));
  }
  out.push_back(std::move(section));
  for (const auto& key : Table) {
    if (key.type.describe_section != nullptr) {
      key.type.describe_section(key.name, out);
    }
  }
}

template <auto Member, const auto& Table>
void read_section(const Walker& walker, const ValueType<StructOf<Member>>& /*type*/,
                  const Entry& entry, StructOf<Member>& out) {
  walker.expect_map(entry);
  walk(walker, Table, entry.value, entry.key_path, out.*Member);
}

// A map read with `Table` into the member struct.
template <auto Member, const auto& Table>
constexpr ValueType<StructOf<Member>> section(std::string_view allowed) {
  return {.member = member_id<Member>(),
          .read = &read_section<Member, Table>,
          .allowed = &custom_allowed<StructOf<Member>>,
          .default_value = [](const ValueType<StructOf<Member>>&) { return std::string("{}"); },
          .describe_section = &describe_keys<Table>,
          .expected = allowed};
}

// A list of maps, each read with `Table` by `Read(walker, entry, struct)`, which adds what the
// list needs beyond the table (defaults from other sections, rules across keys and entries).
template <auto Member, const auto& Table, auto Read>
constexpr ValueType<StructOf<Member>> list_of(std::string_view allowed) {
  return {.member = member_id<Member>(),
          .read = &read_custom<Member, Read>,
          .allowed = &custom_allowed<StructOf<Member>>,
          .default_value = [](const ValueType<StructOf<Member>>&) { return std::string("[]"); },
          .describe_section = &describe_keys<Table>,
          .expected = allowed};
}

template <const auto& Table, class Struct>
void read_inline_section(const Walker& walker, const ValueType<Struct>& /*type*/,
                         const Entry& entry, Struct& out) {
  walker.expect_map(entry);
  walk(walker, Table, entry.value, entry.key_path, out);
}

// A map read with `Table` into the same struct as the key that holds it (`seccomp` fills
// FunctionConfig's seccomp_deny and seccomp_allow).
template <const auto& Table>
constexpr auto inline_section(std::string_view allowed) {
  using Struct = typename std::remove_cvref_t<decltype(Table[0])>::Target;
  return ValueType<Struct>{
      .member = &Table,
      .read = &read_inline_section<Table, Struct>,
      .allowed = &custom_allowed<Struct>,
      .default_value = [](const ValueType<Struct>&) { return std::string("{}"); },
      .describe_section = &describe_keys<Table>,
      .expected = allowed};
}

}  // namespace ember::config::detail

#pragma GCC diagnostic pop
