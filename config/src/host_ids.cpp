#include "ember/config/host_ids.hpp"

#include <grp.h>
#include <pwd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <memory>

namespace ember::config {
namespace {

bool holds(const UidRange& range, std::uint64_t id) {
  return id >= range.first && id <= range.last();
}

// Each entry of /etc/passwd or /etc/group (Next: fgetpwent_r or fgetgrent_r, which read the
// file themselves: reentrant, unlike the getpwent family's one shared cursor, and the node
// reads its file on a reload thread too), described when its id is in `range`.
template <class Entry, auto Next, auto Id, auto Name>
std::optional<std::string> entry_in(const UidRange& range, const std::filesystem::path& file,
                                    const char* id_kind, const char* name_kind) {
  const std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.c_str(), "re"), &std::fclose);
  if (in == nullptr) return std::nullopt;
  std::array<char, 16384> buffer{};
  Entry entry{};
  Entry* result = nullptr;
  while (Next(in.get(), &entry, buffer.data(), buffer.size(), &result) == 0 && result != nullptr) {
    if (holds(range, entry.*Id)) {
      return std::string(id_kind) + " " + std::to_string(entry.*Id) + " is " + name_kind + " " +
             entry.*Name + " (" + file.string() + ")";
    }
  }
  return std::nullopt;
}

// /etc/subuid and /etc/subgid: "NAME:FIRST:COUNT" a line (shadow's subuid(5)).
std::optional<std::string> subordinate_in(const UidRange& range, const std::filesystem::path& file,
                                          const char* kind) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto first_colon = line.find(':');
    const auto second_colon = line.find(':', first_colon + 1);
    if (first_colon == std::string::npos || second_colon == std::string::npos) continue;
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    const char* begin = line.data() + first_colon + 1;
    const char* middle = line.data() + second_colon;
    if (std::from_chars(begin, middle, first).ptr != middle) continue;
    const char* end = line.data() + line.size();
    if (std::from_chars(middle + 1, end, count).ptr != end || count == 0) continue;
    const std::uint64_t last = first + count - 1;
    if (first <= range.last() && last >= range.first) {
      return std::string(kind) + " " + std::to_string(first) + "-" + std::to_string(last) +
             " are subordinate ids of " + line.substr(0, first_colon) + " (" + file.string() + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> host_use_of(const UidRange& range, const HostIdFiles& files) {
  if (auto found = entry_in<passwd, &::fgetpwent_r, &passwd::pw_uid, &passwd::pw_name>(
          range, files.passwd, "uid", "user")) {
    return found;
  }
  if (auto found = entry_in<::group, &::fgetgrent_r, &group::gr_gid, &group::gr_name>(
          range, files.group, "gid", "group")) {
    return found;
  }
  if (auto sub = subordinate_in(range, files.subuid, "uids")) return sub;
  return subordinate_in(range, files.subgid, "gids");
}

}  // namespace ember::config
