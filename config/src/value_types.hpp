// The kinds of value a key can have, as factories that make a ValueType for the schema
// tables: integer, integer_list, choice, text, text_list, custom, section, list_of,
// inline_section. Each
// binds the key to its member through a template argument.
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

#include "key.hpp"
#include "messages.hpp"
#include "walker.hpp"

// Designated initializers below name only the fields a kind sets; GCC 12 warns about the
// rest even so.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ember::config::detail {

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

template <auto Member>
void read_integer_list(const Walker& walker, const ValueType<StructOf<Member>>& type,
                       const Entry& entry, StructOf<Member>& out) {
  using T = typename TypeOf<Member>::value_type;
  TypeOf<Member> values;
  for (const std::uint64_t number : walker.integer_list(entry, type.range, type.list_size)) {
    if constexpr (IsDuration<T>::value) {
      values.push_back(T(static_cast<typename T::rep>(number)));
    } else {
      values.push_back(static_cast<T>(number));
    }
  }
  out.*Member = std::move(values);
}

template <class Struct>
std::string integer_list_allowed(const ValueType<Struct>& type) {
  return "a list of " + std::to_string(type.list_size.min) + ".." +
         std::to_string(type.list_size.max) + " items; each an integer " +
         std::to_string(type.range.min) + ".." + std::to_string(type.range.max);
}

template <auto Member>
std::string member_default_integer_list(const ValueType<StructOf<Member>>& /*type*/) {
  const StructOf<Member> defaults{};
  std::string out;
  for (const auto& value : defaults.*Member) {
    out += (out.empty() ? "" : ", ") + std::to_string(integer_value(value));
  }
  return "[" + out + "]";
}

// A list of `min_items`..`max_items` integers, each MIN..MAX (durations count in their unit).
template <auto Member>
constexpr ValueType<StructOf<Member>> integer_list(std::uint64_t min, std::uint64_t max,
                                                   std::uint64_t min_items,
                                                   std::uint64_t max_items) {
  if (min > max || max > largest_value<typename TypeOf<Member>::value_type>() ||
      min_items > max_items) {
    throw std::logic_error("the range does not fit the member");
  }
  return {.member = member_id<Member>(),
          .read = &read_integer_list<Member>,
          .allowed = &integer_list_allowed<StructOf<Member>>,
          .default_value = &member_default_integer_list<Member>,
          .range = {min, max},
          .list_size = {min_items, max_items}};
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
  // A type test, not `Default != nullptr`: GCC's UBSan makes that comparison non-constant.
  if constexpr (!std::is_null_pointer_v<decltype(Default)>) {
    type.default_value = &custom_default<Default, StructOf<Member>>;
  }
  return type;
}

// --- Sections: a map whose keys have a table of their own ----------------------------------------

// "{}" or "[]": a section's default is its own defaults, or no entries.
template <class Struct, char Open, char Close>
std::string empty_yaml(const ValueType<Struct>& /*type*/) {
  return {Open, Close};
}

// The struct a table fills.
template <const auto& Table>
using TargetOf = typename std::remove_cvref_t<decltype(Table[0])>::Target;

// Reads the map into `out.*Member`, or into `out` itself when Member is nullptr.
template <const auto& Table, auto Member, class Struct>
void read_section(const Walker& walker, const ValueType<Struct>& /*type*/, const Entry& entry,
                  Struct& out) {
  walker.expect_map(entry);
  if constexpr (std::is_null_pointer_v<decltype(Member)>) {
    walk(walker, Table, entry.value, entry.key_path, out);
  } else {
    walk(walker, Table, entry.value, entry.key_path, out.*Member);
  }
}

template <class Struct, const auto& Table>
constexpr ValueType<Struct> section_type(MemberId member, decltype(ValueType<Struct>::read) read,
                                         decltype(ValueType<Struct>::default_value) empty,
                                         std::string_view allowed) {
  return {.member = member,
          .read = read,
          .allowed = &custom_allowed<Struct>,
          .default_value = empty,
          .describe_section = &describe_keys<Table>,
          .expected = allowed};
}

// A map read with `Table` into the member struct (`node` fills Config::node).
template <auto Member, const auto& Table>
constexpr ValueType<StructOf<Member>> section(std::string_view allowed) {
  using Struct = StructOf<Member>;
  return section_type<Struct, Table>(member_id<Member>(), &read_section<Table, Member, Struct>,
                                     &empty_yaml<Struct, '{', '}'>, allowed);
}

// A map read with `Table` into the same struct as the key that holds it (`seccomp` fills
// FunctionConfig's seccomp_deny and seccomp_allow).
template <const auto& Table>
constexpr ValueType<TargetOf<Table>> inline_section(std::string_view allowed) {
  using Struct = TargetOf<Table>;
  return section_type<Struct, Table>(member_id<&Table>(), &read_section<Table, nullptr, Struct>,
                                     &empty_yaml<Struct, '{', '}'>, allowed);
}

// A list of maps, each read with `Table` by `Read(walker, entry, struct)`, which adds what the
// list needs beyond the table (defaults from other sections, rules across keys and entries).
template <auto Member, const auto& Table, auto Read>
constexpr ValueType<StructOf<Member>> list_of(std::string_view allowed) {
  using Struct = StructOf<Member>;
  return section_type<Struct, Table>(member_id<Member>(), &read_custom<Member, Read>,
                                     &empty_yaml<Struct, '[', ']'>, allowed);
}

}  // namespace ember::config::detail

#pragma GCC diagnostic pop
